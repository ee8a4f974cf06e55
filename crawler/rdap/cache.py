"""The ``rdap_networks`` table: which addresses still need asking, and storing answers.

A row covers ``start_num..end_num`` of its family. Storing a batch first drops the transient
failure rows (:data:`~crawler.rdap.status.RETRYABLE`) that the batch's rows cover, so an
address keeps one row per outcome and a later answer replaces an earlier timeout.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from chokepoints import db
from crawler.rdap.client import RdapResult
from crawler.rdap.status import RETRYABLE

logger = logging.getLogger(__name__)

_COLUMNS: dict[str, pa.DataType] = {
    "rir": pa.string(),
    "server": pa.string(),
    "query_ip": pa.string(),
    "family": pa.int8(),
    "start_num": pa.string(),  # DuckDB casts the text to UHUGEINT
    "end_num": pa.string(),
    "handle": pa.string(),
    "cidr": pa.string(),
    "name": pa.string(),
    "org": pa.string(),
    "country": pa.string(),
    "net_type": pa.string(),
    "parent_handle": pa.string(),
    "status": pa.string(),
    "error": pa.string(),
    "requests": pa.int16(),
    "elapsed_ms": pa.float64(),
    "snapshot_id": pa.int32(),
    "fetched_at": pa.timestamp("us"),
    "raw": pa.string(),
}


@dataclass(frozen=True, slots=True)
class Pending:
    """An address of a snapshot that no cached row answers yet."""

    ip: str
    family: int
    ip_num: int
    asn: int | None


def retryable_list() -> list[str]:
    """The transient statuses, sorted, as a query parameter."""
    return sorted(RETRYABLE)


def pending(con: duckdb.DuckDBPyConnection, snapshot_id: int, *, unrouted_only: bool = False,
            skip_asns: Collection[int] = ()) -> list[Pending]:
    """The snapshot's addresses (``ip_origins``) that no non-transient cached row covers, except
    those of the ASes in ``skip_asns``; ``unrouted_only``: only those without an origin AS."""
    rows = con.execute(
        db.sql_text("crawler.rdap", "rdap_pending.sql"),
        {"sid": snapshot_id, "retryable": retryable_list(), "unrouted_only": unrouted_only,
         "skip_asns": sorted(skip_asns)},
    ).fetchall()
    return [Pending(str(ip), int(fam), int(num), None if asn is None else int(asn)) for ip, fam, num, asn in rows]


def to_table(results: Sequence[RdapResult], snapshot_id: int | None) -> pa.Table:
    """The rows of ``rdap_networks`` for some results."""
    out: dict[str, list[Any]] = {k: [] for k in _COLUMNS}
    for r in results:
        net = r.network
        out["rir"].append(None if r.rir is None else str(r.rir))
        out["server"].append(r.server)
        out["query_ip"].append(r.ip)
        out["family"].append(r.family)
        out["start_num"].append(str(r.start_num))
        out["end_num"].append(str(r.end_num))
        out["handle"].append(net.handle if net else None)
        out["cidr"].append(net.cidr if net else None)
        out["name"].append(net.name if net else None)
        out["org"].append(net.org if net else None)
        out["country"].append(net.country if net else None)
        out["net_type"].append(net.type if net else None)
        out["parent_handle"].append(net.parent_handle if net else None)
        out["status"].append(str(r.status))
        out["error"].append(r.error)
        out["requests"].append(r.requests)
        out["elapsed_ms"].append(r.elapsed_ms)
        out["snapshot_id"].append(snapshot_id)
        out["fetched_at"].append(r.fetched_at)
        out["raw"].append(json.dumps(r.raw, separators=(",", ":")) if net is not None else None)
    return pa.table(out, schema=pa.schema(list(_COLUMNS.items())))


def _drop_superseded(results: Sequence[RdapResult]) -> list[RdapResult]:
    """Leave out transient failures that a network answered in the same batch covers."""
    nets = [(r.family, r.start_num, r.end_num) for r in results if r.network is not None]
    return [
        r
        for r in results
        if not (r.status in RETRYABLE and any(f == r.family and s <= r.ip_num <= e for f, s, e in nets))
    ]


def store(con: duckdb.DuckDBPyConnection, results: Sequence[RdapResult], snapshot_id: int | None = None) -> int:
    """Write results in one transaction, replacing the transient rows they cover; return rows written."""
    results = _drop_superseded(results)
    if not results:
        return 0
    batch = to_table(results, snapshot_id)
    con.register("_rdap_batch", batch)
    try:
        con.execute("begin transaction")
        try:
            con.execute(
                "delete from rdap_networks n where list_contains($retryable, n.status) and exists ("
                " select 1 from _rdap_batch b where b.family = n.family"
                " and n.start_num between cast(b.start_num as uhugeint) and cast(b.end_num as uhugeint))",
                {"retryable": retryable_list()},
            )
            written = db.append(con, "rdap_networks", batch)
            con.execute("commit")
        except Exception:
            db.rollback(con)
            raise
    finally:
        con.unregister("_rdap_batch")
    return written
