"""``chokepoints diff``: two snapshots side by side (site migrations, metric changes)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from chokepoints.cli.options import DEFAULT_DB, DbPath
from chokepoints.cli.report import Level, LevelOpt, OutOpt, Weight, WeightOpt, write


class Format(StrEnum):
    table = "table"
    json = "json"
    md = "md"


def diff(
    a: Annotated[str, typer.Argument(help="The earlier snapshot: an id, or 'latest'.")],
    b: Annotated[str, typer.Argument(help="The later snapshot: an id, or 'latest'.")],
    layer: Annotated[list[str] | None, typer.Option("--layer", "-l", help=(
        "Only this layer (repeatable); default every layer."))] = None,
    weight: WeightOpt = Weight.uniform,
    level: LevelOpt = Level.provider,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows per table in table/md output.")] = 10,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table (terminal), json or md.")] = Format.table,
    out: OutOpt = None,
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Compare snapshot A with snapshot B per layer: which sites moved between providers (a
    migration matrix, plus sites gained, lost, appearing and disappearing) and how every metric
    and provider share changed (A, B, delta).
    """
    from analysis import diff as lib
    from analysis import render
    from analysis.summary import snapshot_layers
    from chokepoints import db
    from chokepoints.errors import UserError

    con = db.connect(db_path, read_only=True)
    try:
        sa, sb = db.resolve_snapshot(con, a), db.resolve_snapshot(con, b)
        if layer:
            known = set(snapshot_layers(con, sa)) | set(snapshot_layers(con, sb))
            unknown = [x for x in layer if x not in known]
            if unknown:
                raise UserError(f"unknown layer {unknown[0]!r} (one of {', '.join(sorted(known))})")
        data = lib.diff(con, sa, sb, layers=layer or None, weight=weight.value, level=level.value)
    finally:
        con.close()
    if fmt is Format.json:
        write(render.to_json(data), out)
    elif fmt is Format.md or out is not None:
        write(lib.to_markdown(data, top=top), out)
    else:
        lib.print_table(data, Console(), top=top)
