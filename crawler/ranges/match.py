"""Address attribution by published ranges: a snapshot's addresses -> ``ip_range_matches``.

* :func:`select_versions` — the stored version of each feed nearest a date.
* :func:`match_addresses` — every address of the snapshot (``ip_origins``) to the most specific
  published prefix holding it across the chosen versions (``sql/match.sql``), recorded with
  the versions used (``snapshot_feeds``).
* :func:`match_snapshot` — both, for the snapshot's own date.

All the work runs inside DuckDB on integer ranges (``start_num``/``end_num`` as UHUGEINT): the
prefixes are cut into non-overlapping segments and the addresses meet them in one ASOF join.
``scripts/bench_attribution.py`` measures it against a pyasn lookup loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

from chokepoints import db
from chokepoints.errors import UserError
from crawler.ranges.feeds import Catalogue, load_catalogue

logger = logging.getLogger(__name__)

PACKAGE = "crawler.ranges"


@dataclass(frozen=True, slots=True)
class RangeMatch:
    """What :func:`match_snapshot` did.

    :param snapshot_id: the snapshot.
    :param when: the date the versions were chosen for.
    :param feed_ids: the ``range_feeds`` versions matched against.
    :param matches: addresses that fell in a published range.
    """

    snapshot_id: int
    when: date
    feed_ids: tuple[int, ...]
    matches: int


def select_versions(con: duckdb.DuckDBPyConnection, when: date) -> list[int]:
    """The stored version of every feed nearest *when*, as ``range_feeds.feed_id`` values.

    Per feed, the version with the fewest days between its publication and *when*; a tie between
    one published before and one after goes to the **earlier** one (what was known on the day
    rather than what came later); versions published the same day, to the one loaded last.

    :param when: usually the snapshot's list date.
    :return: feed ids in ascending order (empty when no feed is stored).
    """
    rows = con.execute(db.sql_text(PACKAGE, "select_versions.sql"), {"when": when}).fetchall()
    return [int(r[0]) for r in rows]


def _generic_params(catalogue: Catalogue) -> dict[str, list[str] | list[int]]:
    generic = catalogue.generic_services()
    return {
        "own_feeds": sorted(catalogue.feeds),
        "generic_feeds": [g[0] for g in generic],
        "generic_services": [g[1] for g in generic],
        "generic_ranks": [g[2] for g in generic],
    }


def match_addresses(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    feed_ids: list[int],
    *,
    catalogue: Catalogue | None = None,
) -> int:
    """Match every address of the snapshot against the range versions *feed_ids*.

    Replaces the snapshot's rows of ``ip_range_matches`` and ``snapshot_feeds`` in one
    transaction. The most specific prefix wins across all the versions; for one prefix published
    several times the provider's own feed beats a third-party copy, a specific service beats a
    generic one (AWS ``EC2`` over ``AMAZON``: ``generic_services`` in ``datasets/feeds.toml``),
    and a row with a region beats one without.

    :param snapshot_id: the snapshot whose ``ip_origins`` are matched.
    :param feed_ids: ``range_feeds`` ids, usually :func:`select_versions` for the snapshot's date.
    :return: the number of addresses that fell in a published range.
    :raises UserError: when a feed id is not stored.
    """
    catalogue = catalogue or load_catalogue()
    ids = sorted({int(f) for f in feed_ids})
    known = {r[0] for r in con.execute("select feed_id from range_feeds where list_contains(?, feed_id)",
                                       [ids]).fetchall()}
    missing = [f for f in ids if f not in known]
    if missing:
        raise UserError(f"no range feed version {', '.join(map(str, missing))} in this database")
    params: dict[str, object] = {"sid": snapshot_id, "feed_ids": ids, **_generic_params(catalogue)}
    con.execute("begin transaction")
    try:
        con.execute("delete from ip_range_matches where snapshot_id = ?", [snapshot_id])
        con.execute("delete from snapshot_feeds where snapshot_id = ?", [snapshot_id])
        con.execute("insert into ip_range_matches by name " + db.sql_text(PACKAGE, "match.sql"), params)
        db.append(con, "snapshot_feeds", pa.table({
            "snapshot_id": pa.array([snapshot_id] * len(ids), pa.int32()),
            "feed_id": pa.array(ids, pa.int32()),
        }))
        count = con.execute("select count(*) from ip_range_matches where snapshot_id = ?",
                            [snapshot_id]).fetchall()[0][0]
        con.execute("commit")
    except Exception:
        db.rollback(con)
        raise
    logger.info("snapshot %d: %d addresses in published ranges of %d feed versions", snapshot_id, count, len(ids))
    return int(count)


def snapshot_date(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> date:
    """The date a snapshot is attributed for: its list's date, else the day it started."""
    rows = con.execute(
        "select coalesce(list_date, cast(started_at as date)) from snapshots where snapshot_id = ?",
        [snapshot_id],
    ).fetchall()
    if not rows:
        raise UserError(f"no snapshot {snapshot_id} in this database")
    return rows[0][0]  # type: ignore[no-any-return]


def match_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    when: date | None = None,
    *,
    catalogue: Catalogue | None = None,
) -> RangeMatch:
    """Match a snapshot against the stored versions nearest its date (or *when*)."""
    day = when or snapshot_date(con, snapshot_id)
    ids = select_versions(con, day)
    n = match_addresses(con, snapshot_id, ids, catalogue=catalogue)
    return RangeMatch(snapshot_id, day, tuple(ids), n)
