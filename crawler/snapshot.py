"""Snapshot rows: create one before a crawl, record its inputs, close it with a status."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from chokepoints import __version__, db


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def create(con: duckdb.DuckDBPyConnection, *, list_name: str, settings: dict[str, Any], **fields: Any) -> int:
    """Insert a ``running`` snapshot and return its id.

    ``fields`` are any other ``snapshots`` columns (list_id, list_sha256, resolver, rib_date, ...).
    A fresh ``snapshot_uid`` (uuid) identifies the snapshot across databases (export/ingest).
    """
    cols = {"list_name": list_name, "snapshot_uid": str(uuid.uuid4()),
            "tool_version": __version__, "settings": json.dumps(settings, default=str),
            "started_at": _now(), "status": "running", **fields}
    names = ", ".join(cols)
    marks = ", ".join("?" for _ in cols)
    row = con.execute(
        f"insert into snapshots ({names}) values ({marks}) returning snapshot_id", list(cols.values())
    ).fetchall()
    return int(row[0][0])


def update(con: duckdb.DuckDBPyConnection, snapshot_id: int, **fields: Any) -> None:
    """Set columns of a snapshot (names are checked against the table's columns)."""
    known = {r[0] for r in con.execute("describe snapshots").fetchall()}
    for name in fields:
        if name not in known:
            raise ValueError(f"no snapshots column {name!r}")
    values = [json.dumps(v, default=str) if name in ("settings", "stats") else v for name, v in fields.items()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    con.execute(f"update snapshots set {assignments} where snapshot_id = ?", [*values, snapshot_id])


def finish(con: duckdb.DuckDBPyConnection, snapshot_id: int, status: str, *,
           stats: dict[str, Any] | None = None, error: str | None = None) -> None:
    """Close a snapshot with ``complete``, ``failed`` or ``interrupted``."""
    update(con, snapshot_id, status=status, finished_at=_now(), stats=stats or {}, error=error)


def insert_list(con: duckdb.DuckDBPyConnection, snapshot_id: int,
                entries: list[tuple[int, str, int | None, str]], rejects: list[tuple[int, str, str]]) -> None:
    """Store the list as measured (rank, domain, bucket, raw) and the rejected lines kept."""
    db.append(con, "list_entries", pa.table({
        "snapshot_id": pa.array([snapshot_id] * len(entries), pa.int32()),
        "rank": pa.array([e[0] for e in entries], pa.int32()),
        "domain": pa.array([e[1] for e in entries], pa.string()),
        "bucket": pa.array([e[2] for e in entries], pa.int32()),
        "raw": pa.array([e[3] for e in entries], pa.string()),
    }))
    db.append(con, "list_rejects", pa.table({
        "snapshot_id": pa.array([snapshot_id] * len(rejects), pa.int32()),
        "line_no": pa.array([r[0] for r in rejects], pa.int32()),
        "raw": pa.array([r[1] for r in rejects], pa.string()),
        "reason": pa.array([r[2] for r in rejects], pa.string()),
    }))
