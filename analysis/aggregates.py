"""Stored per-snapshot aggregates: the sums every concentration metric is computed from.

``metric_weights`` (migration 0008) holds, per snapshot, level and cut, the sums that
``sql/provider_shares.sql`` and ``sql/layer_metrics.sql`` turn into shares and concentration
metrics under either weighting: for the cut's measured sites, each layer's attributed sites and
each provider's sites (``sql/weights_computed.sql`` defines them). :func:`store` writes them at
the end of a snapshot's attribution (``crawler.attribution.attribute``, inside its transaction),
for both levels, every layer and the cuts of :func:`stored_cuts`, so that ``report``, ``trend``
and ``diff`` read a few thousand rows per snapshot instead of aggregating every site again.

The read side (:func:`analysis.summary.metric_rows`) takes the stored rows where they hold what is
asked and computes the same chain from the crawl's rows where they do not: a snapshot attributed
before migration 0008 (until ``chokepoints db migrate`` runs :func:`backfill`), a Parquet export
without the table, a cut such as ``--bucket 5000``. Both ways give the same numbers.
"""

from __future__ import annotations

import logging

import duckdb

from analysis import summary
from chokepoints import db

logger = logging.getLogger(__name__)


def stored_cuts(positions: summary.ListPositions) -> list[int | None]:
    """The cuts stored for a snapshot: the whole list (None) and those of the report's per-bucket
    table (:meth:`~analysis.summary.ListPositions.cuts`: the top 1k, 10k, 100k, 1M up to the first
    that holds the whole list; on a bucketed list, the list's own buckets)."""
    return [None, *positions.cuts()]


def store(con: duckdb.DuckDBPyConnection, snapshot_id: int, cuts: list[int | None] | None = None) -> int:
    """Recompute the snapshot's ``metric_weights`` rows from its list, outcomes, dependencies
    and providers (``sql/metric_weights.sql``); return how many were written.

    Runs in the caller's transaction, if there is one (attribution calls it inside its own).

    :param cuts: the cuts to store (None: the whole list); default :func:`stored_cuts`.
    """
    layers = [r[0] for r in con.execute(
        "select distinct layer from dependencies where snapshot_id = ? order by layer", [snapshot_id]).fetchall()]
    if cuts is None:
        cuts = stored_cuts(summary.list_positions(con, snapshot_id))
    con.execute("delete from metric_weights where snapshot_id = ?", [snapshot_id])
    con.execute("insert into metric_weights by name " + db.sql_text("analysis", "metric_weights.sql"), {
        "sids": [snapshot_id], "cuts": cuts, "layers": layers, "levels": list(summary.LEVELS),
    })
    (rows,) = con.execute("select count(*) from metric_weights where snapshot_id = ?", [snapshot_id]).fetchall()[0]
    logger.info("snapshot %d: %d metric_weights rows", snapshot_id, rows)
    return int(rows)


def missing(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The finished snapshots (not running) with outcomes but no stored sums, oldest first
    (``sql/missing_weights.sql``)."""
    return [int(r[0]) for r in con.execute(db.sql_text("analysis", "missing_weights.sql")).fetchall()]


def backfill(con: duckdb.DuckDBPyConnection, snapshot_ids: list[int] | None = None) -> dict[int, int]:
    """Store the sums of ``snapshot_ids`` (default: :func:`missing`), one transaction per
    snapshot; return the rows written per snapshot."""
    written: dict[int, int] = {}
    for sid in missing(con) if snapshot_ids is None else snapshot_ids:
        con.execute("begin transaction")
        try:
            written[sid] = store(con, sid)
            con.execute("commit")
        except Exception:
            db.rollback(con)
            raise
    return written
