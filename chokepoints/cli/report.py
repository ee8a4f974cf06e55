"""``chokepoints report``: the per-layer concentration summary of a snapshot.

Also home of the analysis options that ``trend`` and ``diff`` share (weighting, level, cut).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from chokepoints.cli.options import DEFAULT_DB, DbPath, SnapshotOpt
from chokepoints.errors import UserError


class Format(StrEnum):
    table = "table"
    json = "json"
    md = "md"
    html = "html"
    csv = "csv"


class Level(StrEnum):
    provider = "provider"
    org = "org"


class Weight(StrEnum):
    uniform = "uniform"
    popularity = "popularity"


LevelOpt = Annotated[Level, typer.Option("--level", help=(
    "provider: services apart (AWS, CloudFront, Route 53); org: by organisation (Amazon)."))]
WeightOpt = Annotated[Weight, typer.Option("--weight", help=(
    "uniform: every site weighs 1; popularity: 1/rank (1/bucket on bucketed lists such as CrUX and Radar, "
    "whose order inside a bucket is alphabetical)."))]
BucketOpt = Annotated[int | None, typer.Option("--bucket", min=1, help=(
    "Only the top N sites by rank (on bucketed lists: the buckets up to N), e.g. 1000; default the whole list."))]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False, help="Write to this file.")]


def write(text: str, out: Path | None) -> None:
    """Print ``text``, or write it to ``out`` (a folder that does not exist, or a file that
    cannot be written, is one :class:`UserError` line, not a traceback)."""
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None


def show(
    db_path: Path, snapshot: str, fmt: str, out: Path | None, top: int, level: str = "provider", *,
    weight: str = "uniform", bucket: int | None = None, buckets: bool = True,
) -> None:
    from analysis import render
    from analysis.summary import snapshot_report
    from chokepoints import db

    con = db.connect(db_path, read_only=True)
    try:
        sid = db.resolve_snapshot(con, snapshot)
        data = snapshot_report(con, sid, level, weight=weight, bucket=bucket, buckets=buckets)
        if fmt == "html":
            text = html_report(con, sid, data, weight=weight, level=level, top=top)
    finally:
        con.close()
    if fmt == "html":
        write(text, out)
        return
    if fmt == "table" and out is None:
        render.print_table(data, Console(), top=top)
        return
    # A table written to a file is written as Markdown, the table format that survives a file.
    if fmt == "csv":
        write(render.to_csv(data), out)
        return
    write(render.to_json(data) if fmt == "json" else render.to_markdown(data, top=top), out)


def html_report(con: Any, sid: int, data: dict[str, Any], *, weight: str, level: str, top: int) -> str:
    """The self-contained HTML page: the report, the DNS HHI over the list family's snapshots,
    and the ranking of the outages that would take down most sites."""
    from analysis.html import render_html
    from analysis.trend import trend
    from analysis.whatif import ranking

    series = trend(con, layer="dns", metric="hhi", list_name=data["snapshot"]["list_name"],
                   weight=weight, level=level)
    outages = [{"scenario": d["scenario"], "failed": d["failed"], "down": d["down_share"],
                "degraded": d["degraded_share"], "down_weight": d["down_weight_share"],
                "degraded_weight": d["degraded_weight_share"]}
               for d in (i.as_dict() for i in ranking(con, sid, limit=10))]
    return render_html(data, trend=series, whatif=outages, top=max(top, 20))


def report(
    snapshot: SnapshotOpt = "latest",
    fmt: Annotated[Format, typer.Option("--format", "-f", help=(
        "table (terminal), json, md, csv (every provider of every layer), or html (one "
        "self-contained page with charts)."))] = Format.table,
    out: OutOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Providers per layer in table/md output.")] = 10,
    level: LevelOpt = Level.provider,
    weight: WeightOpt = Weight.uniform,
    bucket: BucketOpt = None,
    buckets: Annotated[bool, typer.Option("--buckets/--no-buckets", help=(
        "Add the per-bucket table: each layer in the top 1k / 10k / 100k / 1M (or the list's own buckets)."
    ))] = True,
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Summarise a snapshot per layer: sites measured, attributed and unattributed, top providers
    with market, dependence, critical (sole provider) and redundant (one of several) share, HHI,
    CR-1/3/5 and the Nakamoto coefficient; then the same per popularity bucket.

    JSON holds every provider (shares as fractions 0..1) and the snapshot's provenance; the
    weighting and the cut are named in every output.
    """
    show(db_path, snapshot, fmt.value, out, top, level.value, weight=weight.value, bucket=bucket,
         buckets=buckets)
