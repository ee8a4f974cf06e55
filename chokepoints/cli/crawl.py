"""``chokepoints crawl``: measure a top list into the database, then print the summary."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from chokepoints.cli.options import DEFAULT_CACHE_DIR, DEFAULT_DB, DEFAULT_LAB_DIR, CacheDir, DbPath, LabDir
from chokepoints.errors import UserError

if TYPE_CHECKING:
    from crawler.run import ProgressFactory


def _progress_factory(console: Console, enabled: bool) -> ProgressFactory | None:
    if not enabled:
        return None

    def factory(total: int, pages: int = 0) -> tuple[Callable[[int], None], Callable[[int], None], Callable[[], None]]:
        progress = Progress(
            TextColumn("[bold]{task.description:5}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=console, transient=False,
        )
        dns = progress.add_task("DNS", total=total, rate="")
        http = progress.add_task("pages", total=pages, rate="") if pages else None
        progress.start()

        def bump(task: Any, n: int) -> None:
            progress.advance(task, n)
            t = progress.tasks[task]
            if t.completed % 250 == 0 and t.speed:
                progress.update(task, rate=f"{t.speed:,.0f} sites/s")

        def advance(n: int) -> None:
            bump(dns, n)

        def advance_pages(n: int) -> None:
            if http is not None:
                bump(http, n)

        return advance, advance_pages, progress.stop

    return factory


def log_progress_factory(interval: float, stream: Any = None) -> ProgressFactory:
    """Progress for logs (stderr not a terminal): a plain line every ``interval`` seconds."""

    def factory(total: int, pages: int = 0) -> tuple[Callable[[int], None], Callable[[int], None],
                                                      Callable[[], None]]:
        out = stream or sys.stderr
        start = last = time.monotonic()
        done = fetched = 0

        def line(now: float) -> None:
            rate = done / (now - start) if now > start else 0.0
            eta = f", eta {(total - done) / rate:,.0f} s" if rate and done < total else ""
            http = f"; pages {fetched}/{pages} ({fetched / max(pages, 1):.0%})" if pages else ""
            print(f"progress: {done}/{total} sites ({done / max(total, 1):.0%}), {rate:,.0f} sites/s, "
                  f"{now - start:,.0f} s elapsed{eta}{http}", file=out, flush=True)

        def tick() -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= interval:
                last = now
                line(now)

        def advance(n: int) -> None:
            nonlocal done
            done += n
            tick()

        def advance_pages(n: int) -> None:
            nonlocal fetched
            fetched += n
            tick()

        return advance, advance_pages, lambda: line(time.monotonic())

    return factory


def choose_progress(console: Console, enabled: bool, interval: float) -> ProgressFactory | None:
    """The rich bar on a terminal, log lines every ``interval`` seconds otherwise (0: none)."""
    if not enabled:
        return None
    if console.is_terminal:
        return _progress_factory(console, True)
    return log_progress_factory(interval) if interval > 0 else None


def lab_state(lab_dir: Path) -> dict[str, Any]:
    path = lab_dir / "state.json"
    if not path.is_file():
        raise UserError(f"no running lab in {lab_dir} (start one with `chokepoints lab up`)")
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def lab_web(state: dict[str, Any]) -> tuple[dict[str, tuple[str, int]], Path | None]:
    """The lab's web endpoints (every HTTP(S) connection goes there) and its CA bundle."""
    if not (state.get("https_port") and state.get("http_port")):
        return {}, None
    connect = {"http": ("127.0.0.1", int(state["http_port"])), "https": ("127.0.0.1", int(state["https_port"]))}
    return connect, Path(state["ca_bundle"]) if state.get("ca_bundle") else None


def lab_range_files(state: dict[str, Any]) -> list[tuple[Path, str, date | None]]:
    """The published range files the lab world drew its addresses from (world.json)."""
    world = json.loads(Path(state["world"]).read_text()) if state.get("world") else {}
    data_dir = Path(world.get("data_dir") or Path(__file__).resolve().parents[2].parent / "shared" / "data")
    out = []
    for provider, spec in sorted((world.get("ranges") or {}).items()):
        if spec.get("format") in ("rib", "assigned"):
            continue
        day = _parse_date(spec.get("date"))
        out += [(data_dir / f, provider, day) for f in spec.get("files", [])]
    return out


def crawl(
    list_spec: Annotated[str | None, typer.Option("--list", "-l", help=(
        "The top list: a file (rank,domain csv; one domain a line; Radar csv; CrUX bucket,domain; "
        ".gz/.zip of these) or a name: tranco, umbrella, majestic, crux, crux:<country>, radar (token in "
        "$CLOUDFLARE_API_TOKEN). Default: tranco, or the lab's list with --lab."))] = None,
    top: Annotated[int | None, typer.Option("--top", "-n", min=1, help="Measure only the first N sites.")] = None,
    list_date: Annotated[str | None, typer.Option("--list-date", help="Date of the list to fetch, YYYY-MM-DD.")] = None,
    list_id: Annotated[str | None, typer.Option("--list-id", help="Tranco list ID to fetch (pins the list).")] = None,
    list_format: Annotated[str | None, typer.Option("--list-format", help=(
        "Force the file format: rank_domain, domain_lines, radar_csv, crux_bucket."))] = None,
    resolver: Annotated[list[str] | None, typer.Option("--resolver", "-r", help=(
        "DNS server HOST[:PORT] to query; repeatable. Default: the system's (resolv.conf)."))] = None,
    asn_db: Annotated[Path | None, typer.Option("--asn-db", dir_okay=False, help=(
        "pyasn database (.dat or .dat.gz). Default: RouteViews prefix-to-AS for the list's date, "
        "downloaded and cached."))] = None,
    as_names: Annotated[Path | None, typer.Option("--as-names", dir_okay=False, help=(
        "AS names (pyasn asnames.json or a bgp.tools asn,name CSV; .gz ok) to name long-tail "
        "providers; the lab's are used with --lab."))] = None,
    rdap: Annotated[bool, typer.Option("--rdap/--no-rdap", help=(
        "Ask RDAP for networks nothing else names (unrouted addresses, unnamed ASes)."))] = True,
    rdap_url: Annotated[str | None, typer.Option("--rdap-url", help=(
        "One RDAP server for every address (default: each RIR's own; the lab's with --lab)."))] = None,
    rdap_limit: Annotated[int, typer.Option("--rdap-limit", min=0, help="At most this many RDAP lookups.")] = 2000,
    registry: Annotated[Path | None, typer.Option("--registry", dir_okay=False, help=(
        "Provider registry TOML (default: the bundled datasets/providers.toml)."))] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, help="Sites in flight at once.")] = 300,
    timeout: Annotated[float, typer.Option("--timeout", min=0.05, help="Seconds per DNS query attempt.")] = 2.0,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Extra attempts after a timeout.")] = 2,
    http: Annotated[bool | None, typer.Option("--http/--no-http", help=(
        "Fetch each site's home page (https, then http) for the cdn-by-header, ca and third_party "
        "layers; --no-http: a DNS-only crawl. Default: on (off in CHOKEPOINTS_LOOPBACK_ONLY mode "
        "without --lab)."))] = None,
    www: Annotated[str, typer.Option("--www", help=(
        "Home-page host: auto (the apex if it has an address, else www), apex, or www."))] = "auto",
    http_concurrency: Annotated[int, typer.Option("--http-concurrency", min=1, help=(
        "Home-page requests in flight at once (at most 2 per host; robots.txt obeyed)."))] = 64,
    http_timeout: Annotated[float, typer.Option("--http-timeout", min=0.1, help=(
        "Seconds for one HTTP exchange, connection included."))] = 10.0,
    max_body: Annotated[int, typer.Option("--max-body", min=1024, help=(
        "Bytes of a home page read at most (the rest is not downloaded)."))] = 2_000_000,
    contact: Annotated[str | None, typer.Option("--contact", help=(
        "Contact URL (or mailto:) in the user agent, for the operators of the sites crawled."))] = None,
    resume: Annotated[bool, typer.Option("--resume", help=(
        "Continue the newest running (killed) or interrupted snapshot instead of starting one: "
        "only the sites, home pages and hosts it lacks are measured. Give the same options as "
        "the first run (the list is the snapshot's own)."))] = False,
    resume_snapshot: Annotated[int | None, typer.Option("--snapshot", min=1, help=(
        "With --resume: the snapshot to continue (default: the newest resumable one)."))] = None,
    jobdir: Annotated[bool | None, typer.Option("--jobdir/--no-jobdir", help=(
        "Keep Scrapy's job state (its request queue) in <db>.jobs/<snapshot> while crawling, for "
        "--resume after a clean stop (default: with HTTP only); the database alone is enough to "
        "resume after a kill."))] = None,
    write_batch: Annotated[int, typer.Option("--write-batch", min=1, help=(
        "Results (sites, home pages, host lookups) written to the database per transaction."))] = 2000,
    lab: Annotated[bool, typer.Option("--lab", help=(
        "Measure the running lab: take its resolver, ASN database and list from its state.json."))] = False,
    lab_dir: LabDir = DEFAULT_LAB_DIR,
    db_path: DbPath = DEFAULT_DB,
    cache_dir: CacheDir = DEFAULT_CACHE_DIR,
    offline: Annotated[bool, typer.Option("--offline", help="Never download: use files and the cache only.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help=(
        "Show progress: a bar on a terminal, a log line every --log-interval seconds otherwise."))] = True,
    memory_limit: Annotated[str, typer.Option("--memory-limit", help=(
        "DuckDB's memory limit for the stages after the crawl step (origins, attribution; it spills "
        "to disk beyond it), e.g. 1GB. While rows stream in, DuckDB is held to 64MB (or this, if lower)."))] = "1GB",
    log_interval: Annotated[float, typer.Option("--log-interval", min=0, help=(
        "Seconds between progress lines when stderr is not a terminal (0: none)."))] = 30.0,
    summary: Annotated[bool, typer.Option("--summary/--no-summary", help="Print the report when done.")] = True,
    redis_url: Annotated[str | None, typer.Option("--redis", help=(
        "Redis URL shared by a distributed crawl's coordinator and workers (redis://HOST:PORT)."))] = None,
    coordinator: Annotated[bool, typer.Option("--coordinator", help=(
        "Queue the list in --redis for workers, wait for their shards, ingest them, attribute."))] = False,
    worker: Annotated[bool, typer.Option("--worker", help=(
        "Crawl batches from the --redis queue into Parquet shards in --shards; never opens the database."))] = False,
    shards: Annotated[Path | None, typer.Option("--shards", file_okay=False, help=(
        "Folder shared by coordinator and workers for the Parquet shards."))] = None,
    worker_id: Annotated[str | None, typer.Option(
        "--worker-id", help="Name in shard files (default: host-pid).")] = None,
) -> None:
    """Crawl a top list into the database (one new snapshot), then print the summary.

    For each site, apex and www: A, AAAA (with their CNAME chains), NS (and each name server's
    A/AAAA), MX and SOA. Then its home page: https (http when that fails), every redirect hop,
    headers, the leaf certificate, and the hosts the page loads resources from (looked up in
    DNS too). Addresses are mapped to origin ASes with a dated pyasn database, and every site
    is attributed to its providers per layer (hosting, dns, cdn, email, ca, third_party).
    No connection is ever made to a private, loopback, link-local or reserved address.
    """
    from chokepoints import db
    from chokepoints.lock import hold
    from crawler.dns.system import parse_resolver
    from crawler.run import CrawlOptions, measure

    console = Console(stderr=True)
    resolvers = [parse_resolver(r) for r in resolver or []]
    opts = CrawlOptions(
        list_spec=list_spec or "tranco", db_path=db_path, top=top,
        list_date=_parse_date(list_date), list_id=list_id, list_format=list_format,
        resolvers=resolvers, asn_db=asn_db, as_names=as_names, registry_path=registry, concurrency=concurrency,
        timeout=timeout, retries=retries, cache_dir=cache_dir, offline=offline, lab=lab,
        rdap=rdap, rdap_url=rdap_url, rdap_limit=rdap_limit, http=http, www=www,
        http_concurrency=http_concurrency, http_timeout=http_timeout, max_body=max_body, contact=contact,
        resume=resume, resume_snapshot=resume_snapshot, jobdir=jobdir, write_batch=write_batch,
    )
    if resume_snapshot is not None and not resume:
        raise UserError("--snapshot goes with --resume")
    from crawler.pages import WWW_MODES

    if www not in WWW_MODES:
        raise UserError(f"--www must be one of {', '.join(WWW_MODES)}, not {www!r}")
    if lab:
        # The lab's world is dated (by the real list it was drawn from): its list, its pyasn
        # database and the range versions it used all carry that date.
        state = lab_state(lab_dir)
        world_date = _parse_date(state.get("date"))
        opts.resolvers = resolvers or [parse_resolver(state["resolver"])]
        opts.asn_db = asn_db or Path(state["asn_db"])
        opts.asn_db_date = world_date if asn_db is None else None
        if as_names is None and state.get("as_names"):
            opts.as_names = Path(state["as_names"])
        if rdap_url is None and state.get("rdap"):
            opts.rdap_url = state["rdap"]
        opts.range_files = lab_range_files(state)
        opts.http_connect, opts.ca_bundle = lab_web(state)
        if list_spec is None:
            opts.list_spec, opts.list_name = state["list"], "lab"
            opts.list_date = opts.list_date or world_date
    if worker or coordinator:
        if worker == coordinator or redis_url is None or shards is None:
            raise UserError("a distributed crawl needs one of --coordinator/--worker, with --redis and --shards")
        if worker:
            _work(console, redis_url, shards, resolvers or opts.resolvers, concurrency, worker_id)
            return
        from functools import partial

        from crawler.distributed import coordinate
        if http:
            raise UserError("a distributed crawl is DNS-only for now: drop --http")
        opts.http = False
        measure = partial(coordinate, redis_url=redis_url, shards=shards)
    with hold(db_path):
        con = db.connect(db_path)
        # DuckDB would cache up to 80% of the machine's memory; a crawl bounds it (spilling big
        # joins to disk beside the database) so that a million-site snapshot fits a small machine.
        try:
            con.execute("set memory_limit = ?", [memory_limit])
        except duckdb.Error as exc:
            con.close()
            raise UserError(f"bad --memory-limit {memory_limit!r}: {str(exc).splitlines()[0]}") from None
        try:
            result = measure(con, opts, progress=choose_progress(console, progress, log_interval))
        finally:
            con.close()
    rate = result.sites / result.dns_seconds if result.dns_seconds else 0.0
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items(), key=lambda kv: -kv[1]))
    pages = result.stats.get("http_statuses") or {}
    http_line = ("; home pages: " + ", ".join(f"{k} {v}" for k, v in sorted(pages.items(), key=lambda kv: -kv[1]))
                 if pages else "")
    console.print(f"snapshot {result.snapshot_id}: {result.sites} sites in {result.dns_seconds:.1f} s "
                  f"({rate:,.0f} sites/s; {statuses}{http_line}); {result.rows} DNS rows, "
                  f"{result.dependencies} dependencies → {db_path}")
    if summary:
        from chokepoints.cli.report import show

        show(db_path, str(result.snapshot_id), "table", None, 10)


def _work(console: Console, redis_url: str, shards: Path, resolvers: list[tuple[str, int]],
          concurrency: int, worker_id: str | None) -> None:
    """``crawl --worker``: run one distributed worker until its run's queue is drained."""
    from crawler.distributed import run_worker

    stats = run_worker(redis_url, shards, resolvers=resolvers or None, concurrency=concurrency, worker_id=worker_id)
    console.print(f"worker: snapshot {stats['snapshot_id']}: {stats['sites_written']} sites in "
                  f"{stats['shards']} shards ({stats.get('finish_reason')})")


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--list-date must be YYYY-MM-DD, not {value!r}") from None
