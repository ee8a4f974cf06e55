"""One crawl, end to end: list -> snapshot -> Scrapy (DNS) -> ip_origins -> dependencies.

``run_crawl`` is what ``chokepoints crawl`` calls. It pins every input in the snapshot row
before measuring (list hash/ID, resolver, RIB file and date, registry hash, settings, tool
version), and always closes the snapshot with a status: ``complete``, ``failed`` (with the
error) or ``interrupted``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from chokepoints import db
from chokepoints.config import DEFAULT_CACHE_DIR, loopback_only
from chokepoints.errors import UserError
from crawler import asn as asn_mod
from crawler import attribution, registry, snapshot
from crawler.asn_names import load_as_names, store_names
from crawler.asn_names import sha256 as as_names_sha256
from crawler.resume import ResumeState, discard_job, find_resumable, job_dir
from crawler.resume import load as load_state
from crawler.store import BatchWriter

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class CrawlOptions:
    """Everything that shapes a crawl; recorded in ``snapshots.settings``."""

    list_spec: str
    db_path: Path = db.DEFAULT_DB
    top: int | None = None
    list_date: date | None = None
    list_id: str | None = None
    list_format: str | None = None
    resolvers: list[tuple[str, int]] = field(default_factory=list)
    asn_db: Path | None = None
    asn_db_date: date | None = None
    as_names: Path | None = None
    rdap: bool = True
    rdap_url: str | None = None
    rdap_rate: float = 200.0  # requests/s to a single --rdap-url server (the lab); the RIRs get their own
    rdap_limit: int = 2000
    # (path, provider, published) of range-feed files to load before attribution (the lab's)
    range_files: list[tuple[Path, str, date | None]] = field(default_factory=list)
    list_name: str | None = None
    registry_path: Path | None = None
    concurrency: int = 300
    batch_sites: int = 25
    timeout: float = 2.0
    retries: int = 2
    max_inflight: int = 2000
    cache_dir: Path = DEFAULT_CACHE_DIR
    offline: bool = False
    lab: bool = False
    # the HTTP layer: None = on, except in loopback-only mode without a lab endpoint
    http: bool | None = None
    www: str = "auto"
    http_concurrency: int = 64
    http_timeout: float = 10.0
    max_body: int = 2_000_000
    contact: str | None = None
    # lab mode: every HTTP(S) connection goes to these loopback endpoints; the lab's CA bundle
    http_connect: dict[str, tuple[str, int]] = field(default_factory=dict)
    ca_bundle: Path | None = None
    # continue the newest running/interrupted snapshot (or this one) instead of starting one
    resume: bool = False
    resume_snapshot: int | None = None
    # keep Scrapy's job state (JOBDIR) beside the database while a crawl runs; None: with HTTP
    # only (a DNS-only crawl's queue is DNS batches, cheaper to redo than to pickle to disk)
    jobdir: bool | None = None
    # results (sites, pages, host lookups) written per transaction
    write_batch: int = 2000

    def recorded(self) -> dict[str, Any]:
        d = asdict(self)
        d["resolvers"] = [f"{h}:{p}" for h, p in self.resolvers]
        return {k: (str(v) if isinstance(v, Path | date) else v) for k, v in d.items()}


@dataclass(slots=True)
class CrawlResult:
    snapshot_id: int
    sites: int
    statuses: dict[str, int]
    seconds: float
    dns_seconds: float
    rows: int
    dependencies: int
    stats: dict[str, Any]


#: (sites, home pages) -> (advance sites, advance pages, done): the caller's progress display
ProgressFactory = Callable[[int, int], tuple[Callable[[int], None], Callable[[int], None], Callable[[], None]]]


def resolve_asn_db(opts: CrawlOptions, when: date) -> asn_mod.AsnDatabase:
    """The pyasn database to use: the one given, or one fetched for the snapshot's date."""
    if opts.asn_db is not None:
        return asn_mod.open_database(opts.asn_db, day=opts.asn_db_date)
    from crawler.asn_sources import fetch_pfx2as

    path, source, day = fetch_pfx2as(when, opts.cache_dir / "rib", offline=opts.offline)
    return asn_mod.open_database(path, source=source, day=day)


def scrapy_settings(opts: CrawlOptions) -> dict[str, Any]:
    """The Scrapy settings of a crawl with these options."""
    from crawler.settings import CONTACT_URL, DEFAULTS, WITH_HTTP, user_agent

    # DNS batches in flight: DNS_BATCH_OVERLAP times what --concurrency sites fill, while at most
    # --concurrency sites are looked up at once (the handler's DNS_SITES_INFLIGHT)
    dns_requests = max(1, -(-opts.concurrency // opts.batch_sites)) * DEFAULTS["DNS_BATCH_OVERLAP"]
    settings = {**DEFAULTS, **(WITH_HTTP if opts.http else {})}
    settings.update({
        "DNS_RESOLVERS": opts.resolvers,
        "DNS_TIMEOUT": opts.timeout,
        "DNS_RETRIES": opts.retries,
        "DNS_MAX_INFLIGHT": opts.max_inflight,
        "CONCURRENT_REQUESTS": dns_requests + (opts.http_concurrency if opts.http else 0),
        "DOWNLOAD_SLOTS": {"dns": {"concurrency": dns_requests, "delay": 0}},
        "DNS_BATCH_SITES": opts.batch_sites,
        "DNS_SITES_INFLIGHT": opts.concurrency,
        "USER_AGENT": user_agent(opts.contact or CONTACT_URL),
        "HTTP_TIMEOUT": opts.http_timeout,
        "HTTP_MAX_BODY": opts.max_body,
        "HTTP_CONNECT_TO": {k: list(v) for k, v in opts.http_connect.items()},
        "HTTP_CAFILE": str(opts.ca_bundle) if opts.ca_bundle else None,
        "DOWNLOAD_TIMEOUT": max(60.0, 3 * opts.http_timeout),
    })
    return settings


def run_scrapy(domains: list[str], writer: BatchWriter, opts: CrawlOptions, *, jobdir: Path | None = None,
               **spider_args: Any) -> dict[str, Any]:
    """Run the Scrapy crawl of ``domains`` (blocks until done); return Scrapy's stats."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders import SitesSpider

    settings = scrapy_settings(opts)
    if jobdir is not None:
        settings["JOBDIR"] = str(jobdir)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SitesSpider)
    process.crawl(crawler, domains=domains, writer=writer, batch_sites=opts.batch_sites,
                  http=bool(opts.http), www=opts.www, **spider_args)
    process.start()
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())


#: DuckDB's memory limit while a crawl streams its rows in (lowered to, never raised): DuckDB keeps
#: written blocks cached up to its limit, which made a crawl grow with the sites written; the
#: stages after the crawl (origins, attribution) get the full ``--memory-limit`` back.
STREAM_MEMORY_CAP = 64 * 2**20

#: the DNS step of a crawl: (con, snapshot_id, domains, advance) -> stats with at least
#: ``finish_reason``, ``sites_written`` and ``rows_written`` (all sites' rows stored when it returns)
CrawlStep = Callable[[duckdb.DuckDBPyConnection, int, list[str], Callable[[int], None] | None], dict[str, Any]]


def local_crawl(opts: CrawlOptions, resume: ResumeState | None = None,
                page_progress: Callable[[int], None] | None = None) -> CrawlStep:
    """The crawl step in this process: Scrapy feeding one :class:`BatchWriter`, with Scrapy's
    job state in ``<db>.jobs/<snapshot>`` (kept for a resume, removed when the crawl finishes)."""

    def step(con: duckdb.DuckDBPyConnection, sid: int, domains: list[str],
             advance: Callable[[int], None] | None) -> dict[str, Any]:
        writer = BatchWriter(con, sid, progress=advance, batch_sites=opts.write_batch, background=True)
        writer.page_progress = page_progress
        args: dict[str, Any] = {}
        if resume is not None:
            writer.resume(resume.dns_done, resume.pages_done, resume.hosts_done)
            args = {"pages": resume.page_targets, "hosts_done": resume.hosts_done,
                    "hosts_todo": resume.hosts_todo, "ns_hosts_done": resume.ns_hosts_done}
        keep = opts.jobdir if opts.jobdir is not None else bool(opts.http)
        jobdir = job_dir(opts.db_path, sid) if keep else None
        try:
            with db.memory_capped(con, STREAM_MEMORY_CAP):
                stats = run_scrapy(domains, writer, opts, jobdir=jobdir, **args)
            if writer.error is not None:
                raise writer.error
            writer.close()  # the last batch, and the wait for the one being written
        finally:
            writer.close(flush=False)  # on an error: stop the writer thread, keep the first error
        if jobdir is not None and stats.get("finish_reason") == "finished":
            discard_job(jobdir)
        return {**_clean(stats), "sites_written": writer.sites_written, "rows_written": writer.rows_written,
                "pages_written": writer.pages_written, "hosts_written": writer.hosts_written,
                "results_dropped": writer.dropped, "http_statuses": dict(writer.http_statuses),
                "write_seconds": round(writer.write_seconds, 3),
                "append_seconds": round(writer.append_seconds, 3)}

    return step


def check_loopback(opts: CrawlOptions) -> None:
    """In loopback-only mode: offline, and every resolver on loopback."""
    if loopback_only():
        opts.offline = True
        if not opts.resolvers:
            raise UserError("CHOKEPOINTS_LOOPBACK_ONLY is set: give --resolver (a loopback address) or --lab")
        for host, port in opts.resolvers:
            if not ipaddress.ip_address(host).is_loopback:
                raise UserError(f"CHOKEPOINTS_LOOPBACK_ONLY is set: resolver {host}:{port} is not on loopback")


def measure(con: duckdb.DuckDBPyConnection, opts: CrawlOptions, *,
            progress: ProgressFactory | None = None, crawl: CrawlStep | None = None) -> CrawlResult:
    """Load the list, create the snapshot, crawl, attribute; return what happened.

    With ``opts.resume`` no snapshot is created: the newest running or interrupted one (or
    ``opts.resume_snapshot``) is continued from what its rows say is done (:mod:`crawler.resume`).

    :param crawl: the crawl step (default :func:`local_crawl`; the distributed coordinator passes
        one that queues the work for workers and ingests their shards).
    """
    from crawler.dns.system import system_nameservers

    t0 = time.perf_counter()
    check_loopback(opts)
    if not opts.resolvers:
        opts.resolvers = system_nameservers()
    decide_http(opts)
    reg = registry.load(opts.registry_path)
    names = load_as_names(opts.as_names) if opts.as_names is not None else {}
    state: ResumeState | None = None
    if opts.resume:
        if crawl is not None:
            raise UserError("--resume continues a crawl of this machine, not a distributed one")
        sid, status = find_resumable(con, opts.resume_snapshot)
        row = con.execute("select list_date, settings from snapshots where snapshot_id = ?", [sid]).fetchone()
        assert row is not None
        recorded = json.loads(row[1] or "{}")
        if recorded.get("http") is not None and bool(recorded["http"]) != bool(opts.http):
            raise UserError(f"snapshot {sid} was crawled with{'out' if not recorded['http'] else ''} HTTP: "
                            f"resume it with{'out' if not recorded['http'] else ''} it "
                            f"({'--http' if recorded['http'] else '--no-http'})")
        rib = resolve_asn_db(opts, row[0] or date.today())
        if status == "running":  # killed: Scrapy's queue on disk was never closed cleanly
            discard_job(job_dir(opts.db_path, sid))
        state = load_state(con, sid, status, http=bool(opts.http), www=opts.www)
        snapshot.update(con, sid, status="running", error=None)
        domains, total = state.dns_todo, len(state.domains)
        logger.info("resuming snapshot %d: %d of %d sites left for DNS, %d home pages", sid,
                    len(state.dns_todo), total, len(state.page_targets))
    else:
        sid, rib, domains = start_snapshot(con, opts, reg)
        total = len(domains)
    try:
        pages_left = (len(state.page_targets) + len(state.dns_todo) if state else total) if opts.http else 0
        advance, advance_pages, done = progress(len(domains), pages_left) if progress else (None, None, None)
        t_dns = time.perf_counter()
        try:
            stats = (crawl or local_crawl(opts, state, advance_pages))(con, sid, domains, advance)
        finally:
            if done is not None:
                done()
        dns_seconds = time.perf_counter() - t_dns
        (outcomes, distinct) = con.execute(
            "select count(*), count(distinct domain) from site_outcomes where snapshot_id = ?", [sid]
        ).fetchall()[0]
        pages = con.execute(
            "select count(*), count(distinct domain) from http_outcomes where snapshot_id = ?", [sid]
        ).fetchall()[0] if opts.http else (total, total)
        if (stats.get("finish_reason") != "finished" or not outcomes == distinct == total
                or not pages[0] == pages[1] == total):
            snapshot.finish(con, sid, "interrupted", stats=stats,
                            error=f"crawl ended early ({stats.get('finish_reason')}): "
                                  f"{distinct} of {total} sites measured"
                                  + (f", {pages[1]} home pages" if opts.http else ""))
            raise KeyboardInterrupt
        stages: dict[str, float] = {"start": round(t_dns - t0, 3)}  # list, snapshot, its entries
        mark = time.perf_counter()

        def stage(name: str) -> None:  # seconds since the previous stage ended
            nonlocal mark
            now = time.perf_counter()
            stages[name] = round(now - mark, 3)
            mark = now

        statuses = dict(con.execute(
            "select status, count(*) from site_outcomes where snapshot_id = ? group by 1", [sid]).fetchall())
        for table in ("ip_origins", "as_names"):  # filled again by a resumed crawl
            con.execute(f"delete from {table} where snapshot_id = ?", [sid])
        stage("checks")
        ips = [r[0] for r in con.execute(
            "select value from dns_answers where snapshot_id = $sid and rtype in ('A', 'AAAA') union "
            "select value from host_answers where snapshot_id = $sid and rtype in ('A', 'AAAA')", {"sid": sid}
        ).fetchall()]
        origins = asn_mod.origins_table(rib, sid, ips)
        del ips
        db.append(con, "ip_origins", origins)
        if opts.as_names is not None:
            store_names(con, sid, names, (a for a in origins["asn"].to_pylist() if a is not None),
                        str(opts.as_names))
        del origins
        stage("origins")
        rdap_asked = name_with_rdap(con, sid, reg, opts, named=set(names))
        stage("rdap")
        load_range_files(con, opts.range_files, reg)
        stage("range_files")
        deps = attribution.attribute(con, sid, reg)
        stage("attribution")
        summary = {**stats, "statuses": statuses, "dns_seconds": round(dns_seconds, 3), "rdap_lookups": rdap_asked,
                   "stage_seconds": stages}
        if state is not None:
            summary["resumed_from"] = state.status
        snapshot.finish(con, sid, "complete", stats=summary)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        snapshot.finish(con, sid, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    return CrawlResult(sid, int(distinct), statuses, time.perf_counter() - t0, dns_seconds,
                       int(stats.get("rows_written", 0)), deps, summary)


def start_snapshot(con: duckdb.DuckDBPyConnection, opts: CrawlOptions,
                   reg: registry.Registry) -> tuple[int, asn_mod.AsnDatabase, list[str]]:
    """Load the list and the RIB, create the snapshot with every input pinned, store the list;
    return ``(snapshot_id, rib, domains)``."""
    from crawler.toplists import load_list

    toplist = load_list(opts.list_spec, top=opts.top, list_date=opts.list_date, list_id=opts.list_id,
                        fmt=opts.list_format, cache_dir=opts.cache_dir / "lists", offline=opts.offline)
    when = toplist.list_date or date.today()
    rib = resolve_asn_db(opts, when)
    sid = snapshot.create(
        con, list_name=opts.list_name or toplist.name, settings=opts.recorded(),
        list_source=toplist.source, list_id=toplist.list_id, list_sha256=toplist.sha256,
        list_date=toplist.list_date, list_format=toplist.format, psl_version=toplist.psl_version,
        top_n=opts.top, sites=len(toplist.entries), list_rejected=toplist.rejected,
        list_duplicates=toplist.duplicates,
        resolver=",".join(f"{h}:{p}" for h, p in opts.resolvers),
        rib_source=rib.source, rib_sha256=rib.sha256, rib_date=rib.date,
        registry_version=reg.version, registry_hash=reg.sha256,
        as_names_source=str(opts.as_names) if opts.as_names else None,
        as_names_sha256=as_names_sha256(opts.as_names) if opts.as_names else None,
    )
    try:
        snapshot.insert_list(con, sid, [(e.rank, e.domain, e.bucket, e.raw) for e in toplist.entries],
                             [(r.line_no, r.raw, r.reason) for r in toplist.rejects])
    except BaseException as exc:
        snapshot.finish(con, sid, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    return sid, rib, [e.domain for e in toplist.entries]


def decide_http(opts: CrawlOptions) -> None:
    """Settle ``opts.http``: on by default, but in loopback-only mode only with a lab endpoint
    (a home page would otherwise be fetched from a public address)."""
    if opts.http is None:
        opts.http = bool(opts.http_connect) or not loopback_only()
        if not opts.http:
            logger.info("HTTP layer off: CHOKEPOINTS_LOOPBACK_ONLY is set and there is no lab endpoint")
    elif opts.http and loopback_only() and not opts.http_connect:
        raise UserError("CHOKEPOINTS_LOOPBACK_ONLY is set: fetching home pages needs the lab (--lab) "
                        "or --no-http")


def load_range_files(con: duckdb.DuckDBPyConnection, files: list[tuple[Path, str, date | None]],
                     reg: registry.Registry) -> None:
    """Store the given range-feed versions (already stored ones are skipped by their hash)."""
    from crawler.ranges.store import load_versions

    if files:
        load_versions(con, files, registry=reg)


def name_with_rdap(con: duckdb.DuckDBPyConnection, sid: int, reg: registry.Registry, opts: CrawlOptions,
                   named: set[int]) -> int:
    """Ask RDAP for the networks the other evidence cannot name (unrouted addresses, unnamed
    ASes); return the lookups made. Without a loopback server in loopback-only mode, skipped."""
    from crawler.rdap import RdapClient, RdapConfig, name_networks

    if not opts.rdap:
        return 0
    if opts.rdap_url is None and (opts.offline or loopback_only()):
        logger.info("RDAP skipped: offline and no --rdap-url")
        return 0
    config = RdapConfig(base_url=opts.rdap_url, base_rate=opts.rdap_rate) if opts.rdap_url else RdapConfig()
    client = RdapClient(config)
    # Unrouted addresses first: their attribution depends on RDAP; the rest only need a name.
    asked = name_networks(con, sid, client, limit=opts.rdap_limit, registry=reg, unrouted_only=True)
    return asked + name_networks(con, sid, client, limit=max(0, opts.rdap_limit - asked), registry=reg,
                                 named_asns=named)


def _clean(stats: dict[str, Any]) -> dict[str, Any]:
    """Scrapy stats made JSON-friendly."""
    return {k: (v if isinstance(v, int | float | str | bool) or v is None else str(v)) for k, v in stats.items()}
