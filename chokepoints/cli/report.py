"""``chokepoints report``: the per-layer concentration summary of a snapshot."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from chokepoints.cli.options import DEFAULT_DB, DbPath, SnapshotOpt


class Format(StrEnum):
    table = "table"
    json = "json"
    md = "md"


class Level(StrEnum):
    provider = "provider"
    org = "org"


def show(db_path: Path, snapshot: str, fmt: str, out: Path | None, top: int, level: str = "provider") -> None:
    from analysis import render
    from analysis.summary import snapshot_report
    from chokepoints import db

    con = db.connect(db_path, read_only=True)
    try:
        sid = db.resolve_snapshot(con, snapshot)
        data = snapshot_report(con, sid, level)
    finally:
        con.close()
    if fmt == "table" and out is None:
        render.print_table(data, Console(), top=top)
        return
    # A table written to a file is written as Markdown, the table format that survives a file.
    text = render.to_json(data) if fmt == "json" else render.to_markdown(data, top=top)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


def report(
    snapshot: SnapshotOpt = "latest",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table (terminal), json or md.")] = Format.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False, help="Write to this file.")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Providers per layer in table/md output.")] = 10,
    level: Annotated[Level, typer.Option("--level", help=(
        "provider: services apart (AWS, CloudFront, Route 53); org: by organisation (Amazon)."))] = Level.provider,
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Summarise a snapshot per layer: sites measured and attributed, top providers with market,
    dependence and critical share, HHI, CR-1/3/5 and the Nakamoto coefficient.

    JSON holds every provider (shares as fractions 0..1) and the snapshot's provenance.
    """
    show(db_path, snapshot, fmt.value, out, top, level.value)
