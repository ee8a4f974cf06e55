"""``chokepoints export`` / ``ingest``: Parquet round trip, idempotence, paths kept inside the folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analysis.snapshots import snapshot_tables
from chokepoints import db
from tests.cli import run
from tests.ops.conftest import Runs
from tests.test_cli import one_line_error

IDS = ("snapshot_id", "feed_id")


def contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every snapshot table's rows without local ids, sorted; range feeds by (feed, sha256)."""
    con = db.connect(path, read_only=True)
    try:
        out = {}
        for table in snapshot_tables(con):
            cols = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
                [table]).fetchall() if r[0] not in IDS]
            if not cols:
                continue  # snapshot_feeds: compared below by (feed, sha256)
            rows = con.execute(f"select {', '.join(cols)} from {table}"
                               + (" where snapshot_id is not null" if table == "rdap_networks" else "")).fetchall()
            out[table] = sorted(rows, key=repr)
        out["feeds"] = sorted(con.execute(
            "select f.feed, f.sha256, count(*) from snapshot_feeds s join range_feeds f using (feed_id)"
            " group by all").fetchall())
        return out
    finally:
        con.close()


def test_export_then_ingest_gives_identical_rows(runs: Runs, tmp_path: Path) -> None:
    r = run("export", "--snapshot", "all", "--out", tmp_path / "x", "--db", runs.db)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text())
    assert [s["snapshot_id"] for s in manifest["snapshots"]] == [1, 2]
    assert manifest["schema_version"] >= 6 and manifest["tables"]["dns_answers"] > 0
    assert (tmp_path / "x" / "dns_answers" / "snapshot_id=2" / "data.parquet").is_file()
    fresh = tmp_path / "fresh.duckdb"
    first = run("ingest", tmp_path / "x", "--db", fresh)
    assert first.returncode == 0, first.stderr
    assert "ingested 2 snapshot(s)" in first.stdout
    assert contents(fresh) == contents(runs.db)
    again = run("ingest", tmp_path / "x", "--db", fresh)
    assert again.returncode == 0 and "ingested 0 snapshot(s)" in again.stdout and "skipped 2" in again.stdout
    assert contents(fresh) == contents(runs.db)
    report = run("report", "--format", "json", "--db", fresh, "--snapshot", "2")
    assert report.returncode == 0, report.stderr


def test_ingest_into_the_source_adds_nothing_and_a_new_snapshot_is_remapped(runs: Runs, tmp_path: Path) -> None:
    target = runs.copy_db(tmp_path / "t.duckdb")
    assert run("export", "--snapshot", "latest", "--out", tmp_path / "x", "--db", runs.db).returncode == 0
    assert "skipped 1" in run("ingest", tmp_path / "x", "--db", target).stdout
    assert run("snapshots", "rm", "2", "--db", target).returncode == 0
    r = run("ingest", tmp_path / "x", "--db", target)
    assert r.returncode == 0 and "local ids 3" in r.stdout, r.stdout + r.stderr
    con = db.connect(target, read_only=True)
    try:
        assert con.execute("select count(*) from site_outcomes where snapshot_id = 3").fetchall()[0][0] > 0
    finally:
        con.close()


def test_a_path_escaping_the_folder_is_refused(runs: Runs, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    assert run("export", "--snapshot", "latest", "--out", folder, "--db", runs.db).returncode == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][0]["path"] = "../../etc/passwd"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    line = one_line_error(run("ingest", folder, "--db", tmp_path / "t.duckdb"))
    assert "escapes the export folder" in line


def test_a_tampered_file_is_refused(runs: Runs, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    assert run("export", "--snapshot", "1", "--out", folder, "--db", runs.db).returncode == 0
    (folder / "list_entries" / "snapshot_id=1" / "data.parquet").write_bytes(b"nope")
    assert "sha256 does not match" in one_line_error(run("ingest", folder, "--db", tmp_path / "t.duckdb"))
