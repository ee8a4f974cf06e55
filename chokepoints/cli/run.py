"""``chokepoints run --config crawl.toml``: one scheduled snapshot, end to end, under the lock.

Refresh range feeds (optional) -> crawl and attribute (``crawler.run.measure``) -> report files.
Meant for cron, systemd timers and Kubernetes CronJobs (examples in ``scripts/schedule/``): it
prints log lines rather than a progress bar when not on a terminal, refuses at once when another
run holds the database's lock, and any failure ends in one line on stderr and exit code 1.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from chokepoints.config import RunConfig, load_run_config, loopback_only
from chokepoints.errors import ChokepointsError, UserError

logger = logging.getLogger(__name__)

_EXT = {"json": "json", "md": "md", "html": "html", "csv": "csv"}


def run(
    config: Annotated[Path, typer.Option("--config", "-c", dir_okay=False, help="The run's TOML config file.")],
) -> None:
    """Take one snapshot as a config file describes it: refresh ranges, crawl, attribute, write reports."""
    cfg = load_run_config(config)
    console = Console(stderr=True)
    try:
        sid, written = run_once(cfg, console)
    except ChokepointsError:
        raise
    except Exception as exc:  # a scheduled run must end in one line, whatever went wrong
        logger.debug("run failed", exc_info=True)
        first = (str(exc).splitlines() or [""])[0]
        raise UserError(f"run failed: {type(exc).__name__}: {first}") from None
    console.print(f"run: snapshot {sid} complete; reports: {', '.join(map(str, written)) or 'none'}")


def run_once(cfg: RunConfig, console: Console) -> tuple[int, list[Path]]:
    """Do the run under the database's lock; return the snapshot id and the report files written."""
    from chokepoints import db
    from chokepoints.cli.crawl import choose_progress
    from chokepoints.lock import hold
    from crawler.run import measure

    opts = crawl_options(cfg)
    interval = float(cfg.crawl.get("log_interval", 30.0))
    with hold(cfg.db):
        con = db.connect(cfg.db)
        try:
            refresh_ranges(con, cfg, opts.cache_dir)
            result = measure(con, opts, progress=choose_progress(console, True, interval))
            (day,) = con.execute("select coalesce(list_date, started_at::date) from snapshots"
                                 " where snapshot_id = ?", [result.snapshot_id]).fetchall()[0]
        finally:
            con.close()
        console.print(f"snapshot {result.snapshot_id}: {result.sites} sites, {result.dependencies} dependencies")
        written = write_reports(cfg, result.snapshot_id, str(day))
    return result.snapshot_id, written


#: the least value of each numeric ``[crawl]`` key: the bounds ``crawl`` puts on its options
MINIMUMS: dict[str, float] = {"top": 1, "concurrency": 1, "timeout": 0.05, "retries": 0, "rdap_limit": 0,
                               "http_concurrency": 1, "http_timeout": 0.1, "max_body": 1024}


def crawl_options(cfg: RunConfig) -> Any:
    """``CrawlOptions`` from the ``[crawl]`` table (``lab = true`` reads the lab's state.json).

    :raises UserError: a numeric key below the bound ``crawl`` puts on the same option.
    """
    from chokepoints.cli.crawl import _parse_date, lab_range_files, lab_state, lab_web
    from chokepoints.cli.options import DEFAULT_LAB_DIR
    from crawler.dns.system import parse_resolver
    from crawler.run import CrawlOptions

    c = cfg.crawl
    for key, least in MINIMUMS.items():
        if key in c and c[key] < least:
            raise UserError(f"{cfg.source}: [crawl] {key} must be at least {least:g}, not {c[key]}")
    list_spec = str(c.get("list", "tranco"))
    beside = cfg.source.resolve().parent / list_spec
    if beside.is_file():  # a list file named relative to the config file
        list_spec = str(beside)
    opts = CrawlOptions(list_spec=list_spec, db_path=cfg.db, top=c.get("top"),
                        list_date=_parse_date(c.get("list_date")), list_id=c.get("list_id"),
                        list_format=c.get("list_format"),
                        resolvers=[parse_resolver(r) for r in c.get("resolvers", [])],
                        asn_db=c.get("asn_db"), as_names=c.get("as_names"), registry_path=c.get("registry"),
                        rdap=c.get("rdap", True), rdap_url=c.get("rdap_url"), rdap_limit=c.get("rdap_limit", 2000),
                        lab=c.get("lab", False), offline=c.get("offline", False))
    for key in ("concurrency", "timeout", "retries", "cache_dir", "http", "www", "http_concurrency",
                "http_timeout", "max_body", "contact"):
        if key in c:
            setattr(opts, key, c[key])
    from crawler.pages import WWW_MODES

    if opts.www not in WWW_MODES:
        raise UserError(f"{cfg.source}: [crawl] www must be one of {', '.join(WWW_MODES)}, not {opts.www!r}")
    if opts.lab:
        # As `crawl --lab` does: the lab's resolver, pyasn db (dated by its world), ranges and list.
        state = lab_state(c.get("lab_dir", DEFAULT_LAB_DIR))
        world_date = _parse_date(state.get("date"))
        opts.resolvers = opts.resolvers or [parse_resolver(state["resolver"])]
        if opts.asn_db is None:
            opts.asn_db, opts.asn_db_date = Path(state["asn_db"]), world_date
        if opts.as_names is None and state.get("as_names"):
            opts.as_names = Path(state["as_names"])
        opts.rdap_url = opts.rdap_url or state.get("rdap")
        opts.range_files = lab_range_files(state)
        opts.http_connect, opts.ca_bundle = lab_web(state)
        if "list" not in c:
            opts.list_spec, opts.list_name = state["list"], "lab"
            opts.list_date = opts.list_date or world_date
    return opts


def refresh_ranges(con: Any, cfg: RunConfig, cache_dir: Path) -> None:
    """Load the configured range folders and, with ``refresh = true``, the current published feeds."""
    from crawler.ranges import store

    for folder in cfg.range_folders:
        store.load_folder(con, folder)
    if cfg.refresh_ranges:
        if loopback_only():
            raise UserError("CHOKEPOINTS_LOOPBACK_ONLY is set: [ranges] refresh = true would download")
        import urllib.request

        store.fetch_current(con, cache_dir / "ranges", urllib.request.urlopen)


def write_reports(cfg: RunConfig, sid: int, day: str) -> list[Path]:
    """Write one report file per configured format: ``chokepoints-<date>-s<id>.<ext>``."""
    from chokepoints.cli.report import show

    opts = cfg.report_options
    cfg.report_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in cfg.report_formats:
        out = cfg.report_dir / f"chokepoints-{day}-s{sid}.{_EXT[fmt]}"
        show(cfg.db, str(sid), fmt, out, int(opts.get("top", 10)), str(opts.get("level", "provider")),
             weight=str(opts.get("weight", "uniform")))
        written.append(out)
    return written
