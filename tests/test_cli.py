"""The command line: help everywhere, one-line errors, a read-only query command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chokepoints import db
from tests.cli import run

COMMANDS = [
    [], ["crawl"], ["attribute"], ["report"], ["trend"], ["diff"], ["whatif"], ["query"],
    ["lab"], ["lab", "up"], ["lab", "down"], ["lab", "status"], ["db"], ["db", "migrate"],
    ["data"], ["data", "rib"], ["data", "ranges"], ["run"], ["snapshots"], ["snapshots", "rm"],
    ["snapshots", "prune"], ["export"], ["ingest"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(cmd: list[str]) -> None:
    r = run(*cmd, "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout


def test_version() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("chokepoints ")


def one_line_error(r) -> str:  # type: ignore[no-untyped-def]
    assert r.returncode in (1, 2), (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_missing_list_file(tmp_path: Path) -> None:
    line = one_line_error(run("crawl", "--list", tmp_path / "nope.csv", "--resolver", "127.0.0.1:9",
                              "--asn-db", tmp_path / "x.dat", "--db", tmp_path / "c.duckdb"))
    assert "not found" in line


def test_unreadable_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"\0garbage" * 1000)
    assert "cannot open database" in one_line_error(run("report", "--db", bad))
    assert "database not found" in one_line_error(run("report", "--db", tmp_path / "missing.duckdb"))


def test_unknown_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    db.connect(path).close()
    assert "no snapshot 42" in one_line_error(run("report", "--snapshot", "42", "--db", path))


def test_loopback_only_mode_refuses_other_resolvers(tmp_path: Path) -> None:
    lst = tmp_path / "l.txt"
    lst.write_text("example.com\n")
    line = one_line_error(run("crawl", "--list", lst, "--db", tmp_path / "c.duckdb", "--asn-db", tmp_path / "x"))
    assert "give --resolver" in line
    line = one_line_error(run("crawl", "--list", lst, "--resolver", "192.0.2.1", "--db", tmp_path / "c.duckdb"))
    assert "not on loopback" in line
    line = one_line_error(run("crawl", "--list", "tranco", "--resolver", "127.0.0.1:9", "--db", tmp_path / "c.duckdb"))
    assert "offline" in line


def test_crawl_lab_without_a_lab(tmp_path: Path) -> None:
    line = one_line_error(run("crawl", "--lab", "--lab-dir", tmp_path / "lab", "--db", tmp_path / "c.duckdb"))
    assert "no running lab" in line


def test_query_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    db.connect(path).close()
    for sql in ("insert into snapshots (list_name, tool_version, started_at, status) values ('x','y',now(),'z')",
                "drop table dependencies", "create table t (a int)", "copy snapshots to '/tmp/x.csv'",
                "attach '/tmp/other.duckdb'", "select 1; delete from snapshots"):
        assert "refused" in one_line_error(run("query", sql, "--db", path)), sql
    r = run("query", "select version, name from schema_migrations", "--format", "json", "--db", path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[0])["name"] == "initial"
    r = run("query", "select 1 as one, 'a,b' as two", "--format", "csv", "--db", path)
    assert r.stdout.splitlines() == ["one,two", '1,"a,b"']
    assert "SQL error" in one_line_error(run("query", "select * from nosuchtable", "--db", path))
    assert "SQL error" in one_line_error(run("query", "select * from read_csv('/etc/passwd')", "--db", path))


def test_db_migrate(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    r = run("db", "migrate", "--db", path)
    assert r.returncode == 0 and "applied migrations 0001" in r.stdout
    r = run("db", "migrate", "--db", path)
    assert "up to date" in r.stdout


def test_every_command_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for cmd in COMMANDS:
        if cmd and cmd[0] in ("lab", "db", "data") and len(cmd) == 1:
            continue  # groups: their subcommands are listed
        assert f"chokepoints {' '.join(cmd)}".strip() in readme, cmd
