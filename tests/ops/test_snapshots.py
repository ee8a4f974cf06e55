"""``chokepoints snapshots``: list, rm, prune (retention)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from analysis.snapshots import delete, prune_plan, snapshot_tables
from chokepoints import db
from tests.cli import run
from tests.ops.conftest import SITES, Runs
from tests.test_cli import one_line_error

NOW = datetime(2026, 6, 1)


def add(con: duckdb.DuckDBPyConnection, list_name: str, status: str, days_ago: int) -> int:
    (sid,) = con.execute(
        "insert into snapshots (list_name, tool_version, started_at, status, snapshot_uid)"
        " values (?, 'test', ?, ?, uuid()::varchar) returning snapshot_id",
        [list_name, NOW - timedelta(days=days_ago), status]).fetchall()[0]
    con.execute("insert into dependencies (snapshot_id, domain, layer, provider, evidence)"
                " values (?, 'a.example', 'dns', 'x', 'asn')",
                [sid])
    return int(sid)


def test_list_as_json_and_table(runs: Runs) -> None:
    r = run("snapshots", "--format", "json", "--db", runs.db)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["id"] for x in rows] == [1, 2]
    assert rows[0]["sites"] == SITES and rows[0]["status"] == "complete" and rows[0]["dependencies"] > 0
    table = run("snapshots", "--db", runs.db)
    assert table.returncode == 0 and "complete" in table.stdout


def test_rm_deletes_every_row_of_the_snapshot(runs: Runs, tmp_path: Path) -> None:
    path = runs.copy_db(tmp_path / "c.duckdb")
    r = run("snapshots", "rm", "1", "--db", path)
    assert r.returncode == 0, r.stderr
    con = db.connect(path, read_only=True)
    try:
        for table in snapshot_tables(con):
            (n,) = con.execute(f"select count(*) from {table} where snapshot_id = 1").fetchall()[0]
            assert n == 0, table
        (left,) = con.execute("select count(*) from site_outcomes where snapshot_id = 2").fetchall()[0]
        assert left == SITES
    finally:
        con.close()
    assert "no snapshot 7" in one_line_error(run("snapshots", "rm", "7", "--db", path))


def test_prune_keep_counts_failed_apart(con: duckdb.DuckDBPyConnection) -> None:
    old, mid, new = add(con, "tranco", "complete", 30), add(con, "tranco", "complete", 10), add(
        con, "tranco", "complete", 1)
    failed, other = add(con, "tranco", "failed", 2), add(con, "radar", "complete", 40)
    running = add(con, "tranco", "running", 50)
    plan = prune_plan(con, keep=2, now=NOW)
    assert plan.complete == [old] and plan.failed == [failed]
    plan = prune_plan(con, older_than_days=20, now=NOW)
    assert plan.complete == [old, other] and plan.failed == []
    plan = prune_plan(con, keep=1, older_than_days=5, now=NOW)
    assert plan.complete == [old, mid] and running not in plan.ids and new not in plan.ids
    delete(con, plan.ids)
    assert con.execute("select count(*) from dependencies where snapshot_id in (?, ?)", [old, mid]).fetchall() == [(0,)]


def test_prune_cli_dry_run_then_delete(runs: Runs, tmp_path: Path) -> None:
    path = runs.copy_db(tmp_path / "c.duckdb")
    dry = run("snapshots", "prune", "--keep", "1", "--dry-run", "--db", path)
    assert dry.returncode == 0 and "would delete 1 complete and 0 failed/interrupted snapshots: 1" in dry.stdout
    assert len(json.loads(run("snapshots", "--format", "json", "--db", path).stdout)) == 2
    done = run("snapshots", "prune", "--keep", "1", "--db", path)
    assert done.returncode == 0 and "deleted 1 complete" in done.stdout
    assert [x["id"] for x in json.loads(run("snapshots", "--format", "json", "--db", path).stdout)] == [2]
    assert "--keep" in one_line_error(run("snapshots", "prune", "--db", path))
