"""``chokepoints data``: fetch and convert the dated reference data a crawl uses."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from chokepoints.cli.options import DEFAULT_CACHE_DIR, DEFAULT_DB, CacheDir, DbPath
from chokepoints.errors import UserError

app = typer.Typer(help="Fetch and convert reference data (ASN databases, providers' IP ranges).",
                  no_args_is_help=True)


@app.command("rib")
def rib(
    day: Annotated[str, typer.Option("--date", help="RIB date, YYYY-MM-DD.")] = "",
    mrt: Annotated[list[Path] | None, typer.Option("--mrt", exists=True, dir_okay=False, help=(
        "Convert these local MRT dumps instead of downloading (repeatable)."))] = None,
    pfx2as: Annotated[bool, typer.Option("--pfx2as", help=(
        "Fetch CAIDA's RouteViews prefix-to-AS table instead of the full RIB (quick)."))] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False, help="The pyasn file to write.")] = None,
    cache_dir: CacheDir = DEFAULT_CACHE_DIR,
) -> None:
    """Build a pyasn database for a date: the full RouteViews RIB converted with pyasn's own
    MRT parser, or (--pfx2as) CAIDA's prefix-to-AS file. Prints the file's path; pass it to
    `crawl --asn-db`.
    """
    from crawler import asn_sources

    when = date.today()
    if day:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise UserError(f"--date must be YYYY-MM-DD, not {day!r}") from None
    if pfx2as:
        path, source, used = asn_sources.fetch_pfx2as(when, cache_dir / "rib")
        typer.echo(f"{path}\t{used}\t{source}")
        return
    dumps = list(mrt or []) or [asn_sources.fetch_rib(when, cache_dir / "rib")]
    target = out or cache_dir / "rib" / f"ipasn_rib_{when:%Y%m%d}.dat"
    n = asn_sources.convert_mrt(dumps, target)
    typer.echo(f"{target}\t{n} prefixes")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} must be YYYY-MM-DD, not {text!r}") from None


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    for line in [headers, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


@app.command("ranges")
def ranges(
    paths: Annotated[list[Path] | None, typer.Argument(help=(
        "Range files or folders to load (all versions, all dates, recursively)."), show_default=False)] = None,
    fetch: Annotated[bool, typer.Option("--fetch", help=(
        "Download the current version of every feed in datasets/feeds.toml (Azure excepted: its "
        "link changes weekly, load the downloaded ServiceTags_Public_*.json file)."))] = False,
    list_stored: Annotated[bool, typer.Option("--list", help="Print the versions stored and exit.")] = False,
    feed: Annotated[str | None, typer.Option("--feed", help=(
        "For a single file: the feed it is a version of (aws-ip-ranges, gcp-cloud, azure-service-tags, "
        "oracle, digitalocean-geofeed, linode-geofeed, cloudflare, fastly, cidr:<name>)."))] = None,
    provider: Annotated[str | None, typer.Option("--provider", help=(
        "For a single file: the registry provider id it names."))] = None,
    published: Annotated[str | None, typer.Option("--published", help=(
        "For a single file: its publication date, YYYY-MM-DD (default: from its content or name)."))] = None,
    db_path: DbPath = DEFAULT_DB,
    cache_dir: CacheDir = DEFAULT_CACHE_DIR,
) -> None:
    """Load providers' published IP ranges (AWS, GCP, Azure, Oracle, Cloudflare, Fastly,
    DigitalOcean, Linode, CIDR lists) into the database, every dated version kept; prints each
    version: provider, feed, published, prefixes, and whether it was new or already loaded.
    """
    from chokepoints import db
    from crawler.ranges import store

    if list_stored:
        con = db.connect(db_path, read_only=True)
        try:
            tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
            stored = store.stored_feeds(con) if "range_feeds" in tables else []
        finally:
            con.close()
        _table(["id", "provider", "feed", "published", "prefixes", "source"],
               [[str(r["feed_id"]), r["provider"], r["feed"], str(r["published"]), str(r["prefixes"]), r["source"]]
                for r in stored])
        typer.echo(f"{len(stored)} versions stored" if stored else f"no range feeds stored in {db_path}")
        return
    paths = list(paths or [])
    if not paths and not fetch:
        raise UserError("give range files or folders to load, --fetch, or --list")
    if (feed or provider or published) and (len(paths) != 1 or paths[0].is_dir()):
        raise UserError("--feed, --provider and --published apply to a single file")
    for path in paths:
        if not path.exists():
            raise UserError(f"range file not found: {path}")
    when = _day(published, "--published") if published else None
    con = db.connect(db_path)
    try:
        loads: list[store.FeedLoad] = []
        if fetch:
            import urllib.request

            loads += store.fetch_current(con, cache_dir / "ranges", urllib.request.urlopen)
        for path in paths:
            if path.is_dir():
                loads += store.load_folder(con, path)
            else:
                loads.append(store.load_feed_file(con, path, feed, provider, when))
    finally:
        con.close()
    _table(["provider", "feed", "published", "prefixes", "status"],
           [[r.provider or "-", r.feed, str(r.published or "-"), str(r.prefixes),
             f"{r.status}: {r.reason}" if r.reason else str(r.status)] for r in loads])
    counts = {s: sum(1 for r in loads if r.status is s) for s in store.LoadStatus}
    typer.echo(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to load")
