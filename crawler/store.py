"""Turn measurement results into Arrow batches and write them: one writer, batched.

Plain functions and one small buffering class, no Scrapy import: the Scrapy pipeline hands
each site's result to :class:`BatchWriter`, which appends every ``batch_sites`` sites in one
Arrow batch per table (DuckDB takes those at millions of rows a second; executemany would
manage a few thousand).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from chokepoints import db, failpoints

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


HTTP_OUTCOME_SCHEMA = pa.schema([
    ("snapshot_id", pa.int32()), ("domain", pa.string()), ("status", pa.string()),
    ("start_url", pa.string()), ("final_url", pa.string()), ("http_status", pa.int16()),
    ("address", pa.string()), ("hops", pa.int16()), ("body_bytes", pa.int32()),
    ("truncated", pa.bool_()), ("resources", pa.int32()), ("elapsed_ms", pa.float64()),
    ("error", pa.string()), ("measured_at", pa.timestamp("us")),
])
HOP_SCHEMA = pa.schema([
    ("snapshot_id", pa.int32()), ("domain", pa.string()), ("hop", pa.int16()), ("url", pa.string()),
    ("host", pa.string()), ("address", pa.string()), ("connected", pa.string()), ("status", pa.string()),
    ("http_status", pa.int16()), ("location", pa.string()), ("tls_version", pa.string()),
    ("cert_sha256", pa.string()), ("body_bytes", pa.int32()), ("elapsed_ms", pa.float64()),
    ("error", pa.string()),
])
HEADER_SCHEMA = pa.schema([
    ("snapshot_id", pa.int32()), ("domain", pa.string()), ("hop", pa.int16()),
    ("position", pa.int16()), ("name", pa.string()), ("value", pa.string()),
])
CERT_SCHEMA = pa.schema([
    ("snapshot_id", pa.int32()), ("domain", pa.string()), ("hop", pa.int16()), ("host", pa.string()),
    ("sha256", pa.string()), ("issuer_org", pa.string()), ("issuer_cn", pa.string()),
    ("subject_cn", pa.string()), ("sans", pa.list_(pa.string())), ("not_before", pa.timestamp("us")),
    ("not_after", pa.timestamp("us")), ("serial", pa.string()), ("verified", pa.bool_()),
    ("verify_error", pa.string()),
])
RESOURCE_SCHEMA = pa.schema([
    ("snapshot_id", pa.int32()), ("domain", pa.string()), ("host", pa.string()), ("tag", pa.string()),
    ("count", pa.int32()), ("third_party", pa.bool_()),
])
HOST_ANSWER_SCHEMA = pa.schema([("host" if f.name == "domain" else f.name, f.type) for f in ANSWER_SCHEMA])
#: the tables a flush may write, in the order they are written (site_outcomes last: a shard
#: counts as written once its site_outcomes file exists)
TABLES = ("dns_answers", "host_answers", "http_outcomes", "http_hops", "http_headers", "tls_certificates",
          "page_resources", "site_outcomes")
SCHEMAS = {
    "dns_answers": ANSWER_SCHEMA, "site_outcomes": OUTCOME_SCHEMA, "host_answers": HOST_ANSWER_SCHEMA,
    "http_outcomes": HTTP_OUTCOME_SCHEMA, "http_hops": HOP_SCHEMA, "http_headers": HEADER_SCHEMA,
    "tls_certificates": CERT_SCHEMA, "page_resources": RESOURCE_SCHEMA,
}


class PageLike(Protocol):
    domain: str
    status: str
    start_url: str | None
    hops: list[Any]
    resources: list[tuple[str, str, int, bool]]
    error: str | None
    elapsed_ms: float


def page_columns(snapshot_id: int, pages: Iterable[PageLike]) -> dict[str, dict[str, list[Any]]]:
    """Rows of the HTTP tables for the given page results (one ``http_outcomes`` row each)."""
    out: dict[str, dict[str, list[Any]]] = {t: {f.name: [] for f in SCHEMAS[t]} for t in
           ("http_outcomes", "http_hops", "http_headers", "tls_certificates", "page_resources")}
    now = datetime.now(UTC).replace(tzinfo=None)
    o, h, hd, c, r = (out[t] for t in ("http_outcomes", "http_hops", "http_headers", "tls_certificates",
                                       "page_resources"))
    for page in pages:
        last = page.hops[-1] if page.hops else None
        o["snapshot_id"].append(snapshot_id)
        o["domain"].append(page.domain)
        o["status"].append(page.status)
        o["start_url"].append(page.start_url)
        o["final_url"].append(last.url if last is not None else None)
        o["http_status"].append(last.http_status if last is not None else None)
        o["address"].append(last.address if last is not None else None)
        o["hops"].append(len(page.hops))
        o["body_bytes"].append(last.body_bytes if last is not None else None)
        o["truncated"].append(last.truncated if last is not None else None)
        o["resources"].append(len({host for host, _, _, _ in page.resources}))
        o["elapsed_ms"].append(page.elapsed_ms)
        o["error"].append(page.error)
        o["measured_at"].append(now)
        for i, hop in enumerate(page.hops):
            cert = hop.cert
            h["snapshot_id"].append(snapshot_id)
            h["domain"].append(page.domain)
            h["hop"].append(i)
            h["url"].append(hop.url)
            h["host"].append(hop.host)
            h["address"].append(hop.address)
            h["connected"].append(hop.connected)
            h["status"].append(str(hop.status))
            h["http_status"].append(hop.http_status)
            h["location"].append(next((v for k, v in hop.headers if k == "location"), None)
                                 if hop.http_status is not None and 300 <= hop.http_status < 400 else None)
            h["tls_version"].append(hop.tls_version)
            h["cert_sha256"].append(cert.sha256 if cert is not None else None)
            h["body_bytes"].append(hop.body_bytes)
            h["elapsed_ms"].append(hop.elapsed_ms)
            h["error"].append(hop.error)
            for pos, (name, value) in enumerate(hop.headers):
                hd["snapshot_id"].append(snapshot_id)
                hd["domain"].append(page.domain)
                hd["hop"].append(i)
                hd["position"].append(pos)
                hd["name"].append(name)
                hd["value"].append(value)
            if cert is not None:
                c["snapshot_id"].append(snapshot_id)
                c["domain"].append(page.domain)
                c["hop"].append(i)
                c["host"].append(hop.host)
                c["sha256"].append(cert.sha256)
                c["issuer_org"].append(cert.issuer_org)
                c["issuer_cn"].append(cert.issuer_cn)
                c["subject_cn"].append(cert.subject_cn)
                c["sans"].append(list(cert.sans))
                c["not_before"].append(cert.not_before)
                c["not_after"].append(cert.not_after)
                c["serial"].append(cert.serial)
                c["verified"].append(cert.verified)
                c["verify_error"].append(cert.verify_error)
        for host, tag, count, third in page.resources:
            r["snapshot_id"].append(snapshot_id)
            r["domain"].append(page.domain)
            r["host"].append(host)
            r["tag"].append(tag)
            r["count"].append(count)
            r["third_party"].append(third)
    return out


class SiteBuffer:
    """Buffers measurement results and writes them every ``batch_sites`` results, one Arrow
    batch per table; subclasses say where a batch goes (:meth:`_write`).

    Three kinds of result: a site's DNS lookup (:meth:`add`, one ``site_outcomes`` row each), a
    site's home-page fetch (:meth:`add_page`, one ``http_outcomes`` row each) and a batch of
    resource hosts' DNS lookups (:meth:`add_hosts`, ``host_answers`` rows).

    :param progress: called with 1 for every site's DNS lookup added (the caller owns the
        progress bar; per-status counts are in :attr:`statuses` and :attr:`http_statuses`).
    """

    def __init__(self, snapshot_id: int, *, batch_sites: int = 2000,
                 progress: Callable[[int], None] | None = None) -> None:
        self.snapshot_id = snapshot_id
        self.batch_sites = batch_sites
        self.progress = progress
        self._sites: list[SiteLike] = []
        self._elapsed: list[float] = []
        self._pages: list[PageLike] = []
        self._hosts: list[SiteLike] = []
        self.sites_written = 0
        self.pages_written = 0
        self.hosts_written = 0
        self.rows_written = 0
        self.statuses: dict[str, int] = {}
        self.http_statuses: dict[str, int] = {}
        self.write_seconds = 0.0
        # A resumed crawl: results the snapshot already holds (and those written since) are
        # dropped, so a site requested twice is stored once. None: no check (a fresh crawl).
        self.done_sites: set[str] | None = None
        self.done_pages: set[str] | None = None
        self.done_hosts: set[str] | None = None
        self.dropped = 0
        self.page_progress: Callable[[int], None] | None = None
        #: the exception a write raised inside the crawl (re-raised once Scrapy has stopped)
        self.error: BaseException | None = None

    def resume(self, sites: set[str], pages: set[str], hosts: set[str]) -> None:
        """Drop from now on any result for these sites, pages and hosts."""
        self.done_sites, self.done_pages, self.done_hosts = set(sites), set(pages), set(hosts)

    def _seen(self, done: set[str] | None, key: str) -> bool:
        if done is None:
            return False
        if key in done:
            self.dropped += 1
            return True
        done.add(key)
        return False

    def _pending(self) -> int:
        return len(self._sites) + len(self._pages) + len(self._hosts)

    def add(self, site: SiteLike, elapsed_ms: float = 0.0) -> None:
        """Buffer one site's lookup; write when ``batch_sites`` results are buffered."""
        if self._seen(self.done_sites, site.domain):
            return
        self._sites.append(site)
        self._elapsed.append(elapsed_ms)
        key = str(site.status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        if self.progress is not None:
            self.progress(1)
        if self._pending() >= self.batch_sites:
            self.flush()

    def add_page(self, page: PageLike) -> None:
        """Buffer one site's home-page result."""
        if self._seen(self.done_pages, page.domain):
            return
        self._pages.append(page)
        self.http_statuses[page.status] = self.http_statuses.get(page.status, 0) + 1
        if self.page_progress is not None:
            self.page_progress(1)
        if self._pending() >= self.batch_sites:
            self.flush()

    def add_hosts(self, hosts: Iterable[SiteLike]) -> None:
        """Buffer resource hosts' lookups (``domain`` holds the host)."""
        self._hosts.extend(h for h in hosts if not self._seen(self.done_hosts, h.domain))
        if self._pending() >= self.batch_sites:
            self.flush()

    def tables(self) -> dict[str, pa.Table]:
        """The buffered results as one Arrow table per table name (all of :data:`TABLES`)."""
        cols: dict[str, dict[str, list[Any]]] = {
            "dns_answers": answer_columns(self.snapshot_id, self._sites),
            "site_outcomes": outcome_columns(self.snapshot_id, self._sites, self._elapsed),
            **page_columns(self.snapshot_id, self._pages),
        }
        hosts = answer_columns(self.snapshot_id, self._hosts)
        hosts["host"] = hosts.pop("domain")
        cols["host_answers"] = hosts
        return {t: pa.table(cols[t], schema=SCHEMAS[t]) for t in TABLES}

    def flush(self) -> None:
        """Write the buffered results (nothing if none are buffered)."""
        if not self._pending():
            return
        t0 = time.perf_counter()
        tables = self.tables()
        n = len(self._sites)
        self._write(tables, n)
        self.rows_written += tables["dns_answers"].num_rows
        self.sites_written += n
        self.pages_written += len(self._pages)
        self.hosts_written += len({s.domain for s in self._hosts})
        self._sites.clear()
        self._elapsed.clear()
        self._pages.clear()
        self._hosts.clear()
        self.write_seconds += time.perf_counter() - t0
        logger.debug("wrote %d sites in %.3fs", n, time.perf_counter() - t0)

    def _write(self, tables: dict[str, pa.Table], sites: int) -> None:
        raise NotImplementedError


class BatchWriter(SiteBuffer):
    """The single writer of a crawl: appends each batch to DuckDB, all tables in one
    transaction (a crawl killed mid-write leaves no half-written site behind).

    With ``background`` the appends run in a thread of their own, on a cursor of ``con``, while
    the crawl goes on: at most one batch is being written while the next one fills (a full
    disk surfaces at the next batch, or at :meth:`close`). DuckDB appends without holding
    Python's lock, so the crawl's event loop no longer waits for them (at 1M sites they took
    ~11% of the DNS step). Call :meth:`close` at the end: it writes what is buffered, waits,
    and re-raises a failed write.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, snapshot_id: int, *, batch_sites: int = 2000,
                 progress: Callable[[int], None] | None = None, background: bool = False) -> None:
        super().__init__(snapshot_id, batch_sites=batch_sites, progress=progress)
        self.con = con
        self.append_seconds = 0.0
        """Seconds spent in DuckDB's appends and commits (in the writer thread when ``background``)."""
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="duckdb-writer") if background else None
        self._cursor = con.cursor() if background else con
        self._inflight: Future[None] | None = None

    def _write(self, tables: dict[str, pa.Table], sites: int) -> None:
        # outcomes stored once this batch commits (for the kill points of the fault suite)
        totals = (self.sites_written + sites, self.pages_written + tables["http_outcomes"].num_rows)
        if self._pool is None:
            self._append(tables, totals)
            return
        self._wait()
        self._inflight = self._pool.submit(self._append, tables, totals)

    def _wait(self) -> None:
        """Wait for the batch being written; re-raise its error."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            inflight.result()

    def close(self, *, flush: bool = True) -> None:
        """Write what is buffered and wait for it (raises if a write failed); idempotent.
        ``flush=False`` (after an error): drop what is buffered, wait for the batch being
        written, ignore its failure."""
        try:
            if flush:
                self.flush()
                self._wait()
            else:
                with contextlib.suppress(Exception):
                    self._wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
                self._cursor.close()

    def _append(self, tables: dict[str, pa.Table], totals: tuple[int, int]) -> None:
        t0 = time.perf_counter()
        con = self._cursor
        con.execute("begin transaction")
        try:
            for name, table in tables.items():
                if table.num_rows:
                    db.append(con, name, table)
            failpoints.reached("dns", totals[0])
            failpoints.reached("pages", totals[1])
            con.execute("commit")
        except BaseException:
            db.rollback(con)
            raise
        finally:
            self.append_seconds += time.perf_counter() - t0
