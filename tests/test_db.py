"""The database: migrations recorded and idempotent, read-only opens, clear errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from chokepoints import db
from chokepoints.errors import DatabaseError, SnapshotNotFound


def test_migrations_are_recorded_and_run_once(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    con = db.connect(path)
    versions = [r[0] for r in con.execute("select version from schema_migrations order by 1").fetchall()]
    assert versions == [m.version for m in db.migrations()]
    assert db.migrate(con) == []
    con.close()
    con = db.connect(path, read_only=True)
    assert con.execute("select count(*) from v_site_providers").fetchall() == [(0,)]
    con.close()


def test_read_only_open_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="database not found"):
        db.connect(tmp_path / "nope.duckdb", read_only=True)


def test_read_only_open_of_a_foreign_database(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(DatabaseError, match="not a chokepoints database"):
        db.connect(path, read_only=True)


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="cannot open database"):
        db.connect(path)


def test_resolve_snapshot(con) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SnapshotNotFound, match="no completed snapshot"):
        db.resolve_snapshot(con, "latest")
    con.execute("insert into snapshots (list_name, tool_version, started_at, status) "
                "values ('file', 'x', now(), 'complete')")
    assert db.resolve_snapshot(con, "latest") == 1
    assert db.resolve_snapshot(con, "1") == 1
    with pytest.raises(SnapshotNotFound, match="no snapshot 7"):
        db.resolve_snapshot(con, "7")
    with pytest.raises(SnapshotNotFound, match="'latest' or a number"):
        db.resolve_snapshot(con, "yesterday")
