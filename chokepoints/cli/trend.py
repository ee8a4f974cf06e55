"""``chokepoints trend``: one metric across the completed snapshots of a list family."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chokepoints.cli.options import DEFAULT_DB, DbPath
from chokepoints.cli.report import BucketOpt, Level, LevelOpt, OutOpt, Weight, WeightOpt, write


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"


class Metric(StrEnum):
    hhi = "hhi"
    cr1 = "cr1"
    cr3 = "cr3"
    cr5 = "cr5"
    nakamoto = "nakamoto"
    gini = "gini"
    entropy = "entropy"
    entropy_normalised = "entropy_normalised"
    unattributed_share = "unattributed_share"
    share = "share"
    dependence = "dependence"
    critical = "critical"
    redundant = "redundant"


def trend(
    layer: Annotated[str, typer.Option("--layer", "-l", help="hosting, dns, cdn or email.")],
    metric: Annotated[Metric, typer.Option("--metric", "-m", help=(
        "A layer metric (hhi, cr1, cr3, cr5, nakamoto, gini, entropy, ...) or a provider metric "
        "(share, dependence, critical, redundant)."))],
    provider: Annotated[str | None, typer.Option("--provider", "-p", help=(
        "For a provider metric: this provider (default: the --top providers of the newest snapshot)."))] = None,
    list_name: Annotated[str | None, typer.Option("--list-name", help=(
        "The list family (snapshots.list_name); default that of the newest completed snapshot."))] = None,
    weight: WeightOpt = Weight.uniform,
    level: LevelOpt = Level.provider,
    bucket: BucketOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Providers to follow when no --provider is given.")] = 5,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, json, csv (long) or md.")] = Format.table,
    out: OutOpt = None,
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Follow a metric of a layer across all completed snapshots of a list family, oldest first
    (by list date, then start time; failed and interrupted snapshots left out).
    """
    from analysis import render
    from analysis import trend as lib
    from chokepoints import db

    con = db.connect(db_path, read_only=True)
    try:
        data = lib.trend(con, layer=layer, metric=metric.value, provider=provider, list_name=list_name,
                         weight=weight.value, level=level.value, bucket=bucket, top=top)
    finally:
        con.close()
    if fmt is Format.json:
        write(render.to_json(data), out)
    elif fmt is Format.csv:
        write(lib.to_csv(data).rstrip("\n"), out)
    elif fmt is Format.md or out is not None:
        write(lib.to_markdown(data).rstrip("\n"), out)
    else:
        columns, rows = lib.pivot(data)
        table = Table(title=Text(lib.title(data)), title_justify="left", show_edge=False)
        for i, c in enumerate(columns):
            table.add_column(Text(c), justify="right" if i >= 3 else "left")
        for row in rows:
            table.add_row(*(Text(v) for v in row))
        Console().print(table)

