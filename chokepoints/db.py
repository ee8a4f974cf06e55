"""The DuckDB database: connections, numbered migrations, views, batched appends.

Schema changes are forward-only ``migrations/NNNN_name.sql`` files recorded in the
``schema_migrations`` table; views (``views/*.sql``) are re-created whenever a writable
connection opens, so they always match the code. Readers open the file read-only.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from chokepoints.errors import DatabaseError, SnapshotNotFound

logger = logging.getLogger(__name__)

DEFAULT_DB = Path("chokepoints.duckdb")
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def _sql_files(folder: str) -> Iterator[tuple[str, str]]:
    root = files("chokepoints").joinpath(folder)
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            yield entry.name, entry.read_text(encoding="utf-8")


def migrations() -> list[Migration]:
    """Return the shipped migrations in order."""
    found = []
    for name, sql in _sql_files("migrations"):
        m = _MIGRATION_NAME.match(name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), sql))
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations this database has not run yet; return their versions."""
    con.execute(
        "create table if not exists schema_migrations ("
        " version integer primary key, name varchar not null, applied_at timestamp not null)"
    )
    done = {row[0] for row in con.execute("select version from schema_migrations").fetchall()}
    applied = []
    for mig in migrations():
        if mig.version in done:
            continue
        con.execute("begin transaction")
        try:
            con.execute(mig.sql)
            con.execute(
                "insert into schema_migrations values (?, ?, ?)",
                [mig.version, mig.name, datetime.now(UTC).replace(tzinfo=None)],
            )
            con.execute("commit")
        except Exception:
            rollback(con)
            raise
        logger.info("applied migration %04d_%s", mig.version, mig.name)
        applied.append(mig.version)
    for _, sql in _sql_files("views"):
        con.execute(sql)
    return applied


def connect(
    path: Path | str = DEFAULT_DB, *, read_only: bool = False, apply_migrations: bool = True
) -> duckdb.DuckDBPyConnection:
    """Open the database, migrating it when writable (unless ``apply_migrations`` is false).

    A read-only open of a file that does not exist, is not a DuckDB file, or holds no
    chokepoints schema raises :class:`DatabaseError` with one clear line.
    """
    path = Path(path)
    if read_only and path.is_dir():
        return open_export(path)
    if str(path) != ":memory:" and read_only and not path.exists():
        raise DatabaseError(f"database not found: {path} (run `chokepoints crawl` first)")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        first = str(exc).splitlines()[0]
        if "lock" in first.lower():
            raise DatabaseError(f"database {path} is in use by another process: {first}") from exc
        raise DatabaseError(f"cannot open database {path}: {first}") from exc
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot open database {path}: {str(exc).splitlines()[0]}") from exc
    if read_only:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        if "schema_migrations" not in tables:
            con.close()
            raise DatabaseError(f"{path} is not a chokepoints database (no schema_migrations table)")
    elif apply_migrations:
        migrate(con)
    return con


def open_export(folder: Path) -> duckdb.DuckDBPyConnection:
    """A Parquet export (``chokepoints export``) opened as a database: an in-memory DuckDB with
    the schema applied and the folder's snapshots loaded, so that every read-only command
    (``report``, ``trend``, ``diff``, ``whatif``, ``query``) runs on it without a database file.
    """
    from chokepoints.exchange import ingest

    if not (folder / "manifest.json").is_file():
        raise DatabaseError(f"{folder} is a folder but not a chokepoints export (no manifest.json)")
    con = duckdb.connect(":memory:")
    migrate(con)
    ingest(con, folder)
    return con


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if there still is one: DuckDB rolls back a failed commit
    by itself (a disk full), and a second rollback would raise and hide the real error."""
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("rollback")


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def size_bytes(text: str) -> int | None:
    """A DuckDB size such as ``953.6 MiB`` or ``128MB`` in bytes (None if not a size)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?I?B?)\s*", text.upper())
    if m is None or m.group(2) not in _UNITS:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2)])


@contextlib.contextmanager
def memory_capped(con: duckdb.DuckDBPyConnection, cap: int) -> Iterator[None]:
    """Lower DuckDB's memory limit to ``cap`` bytes for the block (never raise it), then restore it.

    DuckDB keeps the blocks it writes in its buffer pool until the limit forces them out, so a
    long stream of appends would grow the process by the size of the data written; a small cap
    keeps a crawl's memory flat (it evicts written blocks, nothing spills)."""
    before = con.execute("select current_setting('memory_limit')").fetchone()
    old = str(before[0]) if before else ""
    current = size_bytes(old)
    if current is not None and current <= cap:
        yield
        return
    con.execute(f"set memory_limit = '{cap}B'")
    try:
        yield
    finally:
        con.execute("set memory_limit = ?", [old])


def append(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table | dict[str, list[Any]]) -> int:
    """Append rows to ``table`` in one batch (columns matched by name); return the row count.

    ``table`` must be one of the schema's tables (checked, since it cannot be a bound parameter).
    """
    if not re.fullmatch(r"[a-z_]+", table):
        raise ValueError(f"bad table name {table!r}")
    batch = data if isinstance(data, pa.Table) else pa.table(data)
    if batch.num_rows == 0:
        return 0
    con.register("_append_batch", batch)
    try:
        con.execute(f"insert into {table} by name select * from _append_batch")
    finally:
        con.unregister("_append_batch")
    return int(batch.num_rows)


def fetch_dicts(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run a query and return all rows as dicts (fetches everything: no result left open)."""
    cur = con.execute(sql, params if params is not None else [])
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


_INCLUDE = re.compile(r"^-- @include ([a-z0-9_]+\.sql)$", re.MULTILINE)


def sql_text(package: str, name: str) -> str:
    """Read a .sql file shipped in ``package``'s ``sql/`` folder.

    A line ``-- @include other.sql`` is replaced by that file of the same folder, so that a CTE
    chain two queries share is written once (static text only: values are always parameters).
    """
    text = files(package).joinpath("sql", name).read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: sql_text(package, m.group(1)).rstrip("\n"), text)


def resolve_snapshot(con: duckdb.DuckDBPyConnection, spec: str | int | None) -> int:
    """Turn ``latest`` / None / an id into a snapshot id; raise SnapshotNotFound if absent."""
    if spec is None or str(spec) == "latest":
        rows = con.execute(
            "select snapshot_id from snapshots where status = 'complete'"
            " order by started_at desc, snapshot_id desc limit 1"
        ).fetchall()
        if not rows:
            raise SnapshotNotFound("no completed snapshot in this database (run `chokepoints crawl` first)")
        return int(rows[0][0])
    try:
        sid = int(spec)
    except ValueError:
        raise SnapshotNotFound(f"snapshot must be 'latest' or a number, not {spec!r}") from None
    if not con.execute("select 1 from snapshots where snapshot_id = ?", [sid]).fetchall():
        raise SnapshotNotFound(f"no snapshot {sid} in this database")
    return sid
