"""Snapshot management: list, delete (every table with ``snapshot_id``), retention.

The tables that carry a ``snapshot_id`` are discovered from ``information_schema.columns``, so a
table added by a later migration is deleted with its snapshot without a change here.
``rdap_networks`` is a cache shared by all snapshots (its ``snapshot_id`` is provenance only):
deleting a snapshot clears that column rather than the cached networks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from chokepoints import db
from chokepoints.errors import SnapshotNotFound, UserError

logger = logging.getLogger(__name__)

#: Tables whose rows outlive the snapshot that asked for them (provenance column only).
SHARED_CACHES = ("rdap_networks",)
FINISHED_BADLY = ("failed", "interrupted")

_LIST_SQL = """
with deps as (
    select snapshot_id, count(*) as dependencies from dependencies group by snapshot_id
)
select s.snapshot_id as id, s.list_name, s.list_date, s.top_n, s.sites, s.status,
       s.started_at, s.finished_at, coalesce(d.dependencies, 0) as dependencies, s.snapshot_uid
from snapshots s
left join deps d using (snapshot_id)
order by s.snapshot_id
"""

# Each snapshot with its rank among the complete snapshots of its list family (1 = newest).
_PRUNE_SQL = """
with ranked as (
    select snapshot_id, list_name, status, started_at,
           row_number() over (partition by list_name, status = 'complete'
                              order by started_at desc, snapshot_id desc) as newest_rank
    from snapshots
)
select snapshot_id, list_name, status, started_at, newest_rank
from ranked
order by snapshot_id
"""


def list_snapshots(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every snapshot, oldest id first, with its dependency count."""
    return db.fetch_dicts(con, _LIST_SQL)


def snapshot_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The base tables with a ``snapshot_id`` column, ``snapshots`` last."""
    rows = con.execute(
        "select c.table_name from information_schema.columns c"
        " join information_schema.tables t on t.table_name = c.table_name and t.table_schema = c.table_schema"
        " where c.column_name = 'snapshot_id' and t.table_type = 'BASE TABLE' and c.table_schema = 'main'"
        " order by c.table_name"
    ).fetchall()
    names = [r[0] for r in rows if r[0] != "snapshots"]
    return [*names, "snapshots"]


def delete(con: duckdb.DuckDBPyConnection, ids: list[int]) -> dict[str, int]:
    """Delete snapshots and all their rows, in one transaction; return rows deleted per table.

    :raises SnapshotNotFound: if one of ``ids`` is not in the database (nothing is deleted).
    """
    known = {r[0] for r in con.execute("select snapshot_id from snapshots").fetchall()}
    missing = sorted(set(ids) - known)
    if missing:
        raise SnapshotNotFound(f"no snapshot {', '.join(map(str, missing))} in this database")
    counts: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        for table in snapshot_tables(con):
            _check_name(table)
            verb = "update {t} set snapshot_id = null" if table in SHARED_CACHES else "delete from {t}"
            sql = verb.format(t=table) + " where snapshot_id in (select unnest(?::integer[]))"
            (n,) = con.execute(sql, [sorted(set(ids))]).fetchall()[0]
            if table not in SHARED_CACHES:
                counts[table] = int(n)
        con.execute("commit")
    except Exception:
        db.rollback(con)
        raise
    logger.info("deleted snapshots %s", sorted(set(ids)))
    return counts


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """What a retention rule removes: complete snapshots, and failed/interrupted ones apart."""

    complete: list[int]
    failed: list[int]

    @property
    def ids(self) -> list[int]:
        return sorted(self.complete + self.failed)


def prune_plan(con: duckdb.DuckDBPyConnection, *, keep: int | None = None, older_than_days: float | None = None,
               now: datetime | None = None) -> PrunePlan:
    """The snapshots a retention rule would delete (running ones are never touched).

    :param keep: keep the ``keep`` newest complete snapshots of each list family; failed and
        interrupted snapshots do not count towards them and are pruned.
    :param older_than_days: prune snapshots (complete or not) started more than this many days ago.
        With both rules, a snapshot goes when either says so, except that the ``keep`` newest
        complete ones of each family always stay.
    """
    if keep is None and older_than_days is None:
        raise UserError("give --keep N and/or --older-than DAYS")
    now = now or datetime.now(UTC).replace(tzinfo=None)
    cutoff = now - timedelta(days=older_than_days) if older_than_days is not None else None
    rows = db.fetch_dicts(con, _PRUNE_SQL)
    complete, failed = [], []
    for r in rows:
        old = cutoff is not None and r["started_at"] < cutoff
        if r["status"] == "complete":
            protected = keep is not None and r["newest_rank"] <= keep
            beyond = keep is not None and r["newest_rank"] > keep
            if not protected and (beyond or old):
                complete.append(int(r["snapshot_id"]))
        elif r["status"] in FINISHED_BADLY and (old or (keep is not None and cutoff is None)):
            failed.append(int(r["snapshot_id"]))
    return PrunePlan(complete, failed)


def _check_name(table: str) -> None:
    if not table.replace("_", "").isalnum() or not table.islower():
        raise ValueError(f"bad table name {table!r}")
