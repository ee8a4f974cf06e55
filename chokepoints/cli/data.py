"""``chokepoints data``: fetch and convert the dated reference data a crawl uses."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from chokepoints.cli.options import DEFAULT_CACHE_DIR, CacheDir
from chokepoints.errors import UserError

app = typer.Typer(help="Fetch and convert reference data (ASN databases).", no_args_is_help=True)


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
