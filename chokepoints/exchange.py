"""Parquet exchange: export snapshots to a folder, ingest such a folder into a database.

Layout of an export folder (``DIR``)::

    manifest.json                                   tool and schema version, tables, row counts,
                                                    sha256 of every file
    <table>/snapshot_id=<n>/data.parquet            the snapshot's rows of each table that has any
    range_feeds/data.parquet, ip_ranges/data.parquet  the range-feed versions the snapshots used

Ingest is idempotent: a snapshot is identified by its ``snapshot_uid``; one the database already
holds is skipped, a new one gets a fresh local ``snapshot_id`` (and range feeds a local
``feed_id``, matched on ``(feed, sha256)``) and every row is remapped. Every path is checked to
stay inside ``DIR``, and every file's sha256 against the manifest, before anything is written.
(Hugeint columns are written as text: Parquet has no 128-bit integer.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.snapshots import SHARED_CACHES, snapshot_tables
from chokepoints import __version__, db
from chokepoints.errors import SnapshotNotFound, UserError

logger = logging.getLogger(__name__)

FORMAT = "chokepoints-export"
FORMAT_VERSION = 1
FEED_TABLES = ("range_feeds", "ip_ranges")
_NAME = re.compile(r"^[a-z_]+$")


class ExchangeError(UserError):
    """The export folder is not usable."""


@dataclass(slots=True)
class IngestResult:
    """What an ingest did: snapshots added (uid -> local id), skipped (uids), rows per table."""

    added: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


def inside(root: Path, rel: str) -> Path:
    """``root / rel`` resolved, refused unless it stays inside ``root``."""
    base = root.resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(base) or target == base:
        raise ExchangeError(f"path {rel!r} escapes the export folder {root}")
    return target


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute("select column_name, data_type from information_schema.columns"
                       " where table_name = ? and table_schema = 'main' order by ordinal_position", [table]).fetchall()
    return {r[0]: r[1] for r in rows}


def _select_list(con: duckdb.DuckDBPyConnection, table: str) -> str:
    cols = _columns(con, table)
    return ", ".join(f"{c}::varchar as {c}" if t in ("HUGEINT", "UHUGEINT") else c for c, t in cols.items())


def _snapshot_ids(con: duckdb.DuckDBPyConnection, spec: str) -> list[int]:
    if spec == "all":
        ids = [r[0] for r in con.execute(
            "select snapshot_id from snapshots where status <> 'running' order by snapshot_id").fetchall()]
        if not ids:
            raise SnapshotNotFound("no finished snapshot in this database")
        return ids
    return [db.resolve_snapshot(con, spec)]


def export(con: duckdb.DuckDBPyConnection, spec: str, out: Path) -> dict[str, Any]:
    """Write the snapshots ``spec`` names (an id, ``latest`` or ``all``) to ``out``; return the manifest."""
    ids = _snapshot_ids(con, spec)
    out.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []

    def write(table: str, rel: str, sql: str, params: list[Any], sid: int | None) -> None:
        if not _NAME.match(table):
            raise ValueError(f"bad table name {table!r}")
        batch = con.sql(sql, params=params).to_arrow_table()
        if batch.num_rows == 0:
            return
        path = inside(out, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(batch, path)
        files.append({"path": rel, "table": table, "snapshot_id": sid, "rows": batch.num_rows,
                      "sha256": _sha256(path)})

    tables = snapshot_tables(con)
    for sid in ids:
        for table in tables:
            write(table, f"{table}/snapshot_id={sid}/data.parquet",
                  f"select {_select_list(con, table)} from {table} where snapshot_id = ?", [sid], sid)
    used = ("feed_id in (select feed_id from snapshot_feeds where snapshot_id in (select unnest(?::integer[]))"
            " union select feed_id from ip_range_matches where snapshot_id in (select unnest(?::integer[])))")
    for table in FEED_TABLES:
        write(table, f"{table}/data.parquet", f"select {_select_list(con, table)} from {table} where {used}",
              [ids, ids], None)
    uids = dict(con.execute("select snapshot_id, snapshot_uid from snapshots where snapshot_id in"
                            " (select unnest(?::integer[]))", [ids]).fetchall())
    totals: dict[str, int] = {}
    for f in files:
        totals[f["table"]] = totals.get(f["table"], 0) + f["rows"]
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "tool_version": __version__,
        "schema_version": _schema_version(con), "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "snapshots": [{"snapshot_id": sid, "snapshot_uid": uids[sid]} for sid in ids],
        "tables": totals, "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    logger.info("exported snapshots %s to %s", ids, out)
    return manifest


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select coalesce(max(version), 0) from schema_migrations").fetchall()[0][0])


def read_manifest(folder: Path, con: duckdb.DuckDBPyConnection) -> tuple[dict[str, Any], dict[str, pa.Table]]:
    """Check the folder against its manifest; return the manifest and each file's rows by path."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise ExchangeError(f"no manifest.json in {folder}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExchangeError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ExchangeError(f"{path} is not a chokepoints export manifest")
    if int(manifest.get("schema_version", 0)) > _schema_version(con):
        raise ExchangeError(f"{folder} was exported with schema {manifest['schema_version']}, newer than this "
                            f"database's {_schema_version(con)} (upgrade chokepoints)")
    known = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'main'").fetchall()}
    batches: dict[str, pa.Table] = {}
    for f in manifest.get("files", []):
        table, rel = str(f.get("table")), str(f.get("path"))
        if not _NAME.match(table) or table not in known:
            raise ExchangeError(f"manifest names an unknown table {table!r}")
        target = inside(folder, rel)
        if not target.is_file():
            raise ExchangeError(f"{rel} is listed in the manifest but missing")
        if _sha256(target) != f.get("sha256"):
            raise ExchangeError(f"{rel}: sha256 does not match the manifest")
        batches[rel] = pq.read_table(target)
    return manifest, batches


def ingest(con: duckdb.DuckDBPyConnection, folder: Path) -> IngestResult:
    """Load an export folder into the database, in one transaction (see the module docstring)."""
    manifest, batches = read_manifest(folder, con)
    files = manifest.get("files", [])
    result = IngestResult()
    con.execute("begin transaction")
    try:
        feed_map = _ingest_feeds(con, files, batches, result)
        for snap in manifest.get("snapshots", []):
            _ingest_snapshot(con, int(snap["snapshot_id"]), files, batches, feed_map, result)
        con.execute("commit")
    except Exception:
        db.rollback(con)
        raise
    return result


def _insert(con: duckdb.DuckDBPyConnection, table: str, batch: pa.Table, select: str,
            params: list[Any]) -> int:
    con.register("_ingest_batch", batch)
    try:
        (n,) = con.execute(f"insert into {table} by name {select}", params).fetchall()[0]
    finally:
        con.unregister("_ingest_batch")
    return int(n)


def _ingest_feeds(con: duckdb.DuckDBPyConnection, files: list[dict[str, Any]], batches: dict[str, pa.Table],
                  result: IngestResult) -> dict[int, int]:
    """Add the range-feed versions the database lacks; return exported feed_id -> local feed_id."""
    by_table = {f["table"]: batches[f["path"]] for f in files if f["table"] in FEED_TABLES}
    feeds, ranges = by_table.get("range_feeds"), by_table.get("ip_ranges")
    mapping: dict[int, int] = {}
    if feeds is None:
        return mapping
    for row in feeds.to_pylist():
        found = con.execute("select feed_id from range_feeds where feed = ? and sha256 = ?",
                            [row["feed"], row["sha256"]]).fetchall()
        if found:
            mapping[row["feed_id"]] = int(found[0][0])
            continue
        one = pa.Table.from_pylist([row], schema=feeds.schema)
        con.register("_ingest_batch", one)
        try:
            (new_id,) = con.execute("insert into range_feeds by name select * exclude (feed_id)"
                                    " from _ingest_batch returning feed_id").fetchall()[0]
        finally:
            con.unregister("_ingest_batch")
        mapping[row["feed_id"]] = int(new_id)
        if ranges is not None:
            n = _insert(con, "ip_ranges", ranges,
                        "select * replace (?::integer as feed_id) from _ingest_batch where feed_id = ?",
                        [new_id, row["feed_id"]])
            result.rows["ip_ranges"] = result.rows.get("ip_ranges", 0) + n
        result.rows["range_feeds"] = result.rows.get("range_feeds", 0) + 1
    return mapping


def _ingest_snapshot(con: duckdb.DuckDBPyConnection, old_id: int, files: list[dict[str, Any]],
                     batches: dict[str, pa.Table], feed_map: dict[int, int], result: IngestResult) -> None:
    mine = [f for f in files if f.get("snapshot_id") == old_id]
    head = next((f for f in mine if f["table"] == "snapshots"), None)
    if head is None:
        raise ExchangeError(f"snapshot {old_id} is listed but its snapshots row is missing")
    rows = batches[head["path"]].to_pylist()
    uid = rows[0].get("snapshot_uid") if rows else None
    if not uid:
        raise ExchangeError(f"snapshot {old_id} has no snapshot_uid")
    if con.execute("select 1 from snapshots where snapshot_uid = ?", [uid]).fetchall():
        result.skipped.append(uid)
        return
    con.register("_ingest_batch", batches[head["path"]])
    try:
        (new_id,) = con.execute("insert into snapshots by name select * exclude (snapshot_id)"
                                " from _ingest_batch returning snapshot_id").fetchall()[0]
    finally:
        con.unregister("_ingest_batch")
    result.added[uid] = int(new_id)
    con.execute("create or replace temp table _feed_map (old_id integer, new_id integer)")
    if feed_map:
        con.executemany("insert into _feed_map values (?, ?)", list(feed_map.items()))
    for f in mine:
        table = f["table"]
        if table == "snapshots":
            continue
        select = "select * replace (?::integer as snapshot_id"
        if "feed_id" in _columns(con, table):
            select += ", (select m.new_id from _feed_map m where m.old_id = b.feed_id) as feed_id"
        select += ") from _ingest_batch b"
        if table in SHARED_CACHES:  # a cache: add only what is not cached yet
            select += (" where not exists (select 1 from rdap_networks r where r.query_ip = b.query_ip"
                       " and r.fetched_at = b.fetched_at and r.server is not distinct from b.server)")
        n = _insert(con, table, batches[f["path"]], select, [new_id])
        result.rows[table] = result.rows.get(table, 0) + n
