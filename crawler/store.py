"""Turn measurement results into Arrow batches and write them: one writer, batched.

Plain functions and one small buffering class, no Scrapy import: the Scrapy pipeline hands
each site's result to :class:`BatchWriter`, which appends every ``batch_sites`` sites in one
Arrow batch per table (DuckDB takes those at millions of rows a second; executemany would
manage a few thousand).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from chokepoints import db

logger = logging.getLogger(__name__)

ANSWER_SCHEMA = pa.schema([
    ("snapshot_id", pa.int32()), ("domain", pa.string()), ("qname", pa.string()),
    ("qtype", pa.string()), ("status", pa.string()), ("position", pa.int16()),
    ("rname", pa.string()), ("rtype", pa.string()), ("value", pa.string()), ("ttl", pa.int32()),
    ("attempts", pa.int16()), ("transport", pa.string()), ("elapsed_ms", pa.float64()),
])
OUTCOME_SCHEMA = pa.schema([
    ("snapshot_id", pa.int32()), ("domain", pa.string()), ("status", pa.string()),
    ("queries", pa.int32()), ("failures", pa.int32()), ("elapsed_ms", pa.float64()),
    ("measured_at", pa.timestamp("us")),
])
# Statuses that are answers, not failures of the measurement.
ANSWERED = frozenset({"NOERROR", "NODATA", "NXDOMAIN"})


class RecordLike(Protocol):
    name: str
    rtype: str
    ttl: int
    value: str


class QueryLike(Protocol):
    qname: str
    qtype: str
    status: str
    records: tuple[Any, ...]
    attempts: int
    transport: str
    elapsed_ms: float


class SiteLike(Protocol):
    domain: str
    status: str
    results: tuple[Any, ...]


def answer_columns(snapshot_id: int, sites: Iterable[SiteLike]) -> dict[str, list[Any]]:
    """Rows for ``dns_answers``: one per record, or one per query that returned none."""
    cols: dict[str, list[Any]] = {f.name: [] for f in ANSWER_SCHEMA}
    for site in sites:
        for q in site.results:
            records = q.records or (None,)
            for pos, rec in enumerate(records):
                cols["snapshot_id"].append(snapshot_id)
                cols["domain"].append(site.domain)
                cols["qname"].append(q.qname)
                cols["qtype"].append(q.qtype)
                cols["status"].append(str(q.status))
                cols["position"].append(pos if rec is not None else None)
                cols["rname"].append(rec.name if rec is not None else None)
                cols["rtype"].append(rec.rtype if rec is not None else None)
                cols["value"].append(rec.value if rec is not None else None)
                cols["ttl"].append(rec.ttl if rec is not None else None)
                cols["attempts"].append(q.attempts)
                cols["transport"].append(q.transport)
                cols["elapsed_ms"].append(q.elapsed_ms)
    return cols


def outcome_columns(snapshot_id: int, sites: Iterable[SiteLike], elapsed: Iterable[float]) -> dict[str, list[Any]]:
    """Rows for ``site_outcomes``: exactly one per site."""
    cols: dict[str, list[Any]] = {f.name: [] for f in OUTCOME_SCHEMA}
    now = datetime.now(UTC).replace(tzinfo=None)
    for site, ms in zip(sites, elapsed, strict=True):
        cols["snapshot_id"].append(snapshot_id)
        cols["domain"].append(site.domain)
        cols["status"].append(str(site.status))
        cols["queries"].append(len(site.results))
        cols["failures"].append(sum(1 for q in site.results if str(q.status) not in ANSWERED))
        cols["elapsed_ms"].append(ms)
        cols["measured_at"].append(now)
    return cols


class SiteBuffer:
    """Buffers site results and writes them every ``batch_sites`` sites, one Arrow batch per
    table; subclasses say where a batch goes (:meth:`_write`).

    :param progress: called with 1 for every site added (the caller owns the progress bar;
        per-status counts are in :attr:`statuses`).
    """

    def __init__(self, snapshot_id: int, *, batch_sites: int = 2000,
                 progress: Callable[[int], None] | None = None) -> None:
        self.snapshot_id = snapshot_id
        self.batch_sites = batch_sites
        self.progress = progress
        self._sites: list[SiteLike] = []
        self._elapsed: list[float] = []
        self.sites_written = 0
        self.rows_written = 0
        self.statuses: dict[str, int] = {}
        self.write_seconds = 0.0

    def add(self, site: SiteLike, elapsed_ms: float = 0.0) -> None:
        """Buffer one site's lookup; write when ``batch_sites`` are buffered."""
        self._sites.append(site)
        self._elapsed.append(elapsed_ms)
        key = str(site.status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        if self.progress is not None:
            self.progress(1)
        if len(self._sites) >= self.batch_sites:
            self.flush()

    def flush(self) -> None:
        """Write the buffered sites (nothing if none are buffered)."""
        if not self._sites:
            return
        t0 = time.perf_counter()
        answers = pa.table(answer_columns(self.snapshot_id, self._sites), schema=ANSWER_SCHEMA)
        outcomes = pa.table(
            outcome_columns(self.snapshot_id, self._sites, self._elapsed), schema=OUTCOME_SCHEMA
        )
        n = len(self._sites)
        self._write(answers, outcomes, n)
        self.rows_written += answers.num_rows
        self.sites_written += n
        self._sites.clear()
        self._elapsed.clear()
        self.write_seconds += time.perf_counter() - t0
        logger.debug("wrote %d sites in %.3fs", n, time.perf_counter() - t0)

    def _write(self, answers: pa.Table, outcomes: pa.Table, sites: int) -> None:
        raise NotImplementedError


class BatchWriter(SiteBuffer):
    """The single writer of a crawl: appends each batch to DuckDB."""

    def __init__(self, con: duckdb.DuckDBPyConnection, snapshot_id: int, *, batch_sites: int = 2000,
                 progress: Callable[[int], None] | None = None) -> None:
        super().__init__(snapshot_id, batch_sites=batch_sites, progress=progress)
        self.con = con

    def _write(self, answers: pa.Table, outcomes: pa.Table, sites: int) -> None:
        db.append(self.con, "dns_answers", answers)
        db.append(self.con, "site_outcomes", outcomes)
