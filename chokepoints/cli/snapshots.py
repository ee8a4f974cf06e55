"""``chokepoints snapshots``: list, delete and prune snapshots (logic in analysis/snapshots.py)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chokepoints.cli.options import DEFAULT_DB, DbPath


class Format(StrEnum):
    table = "table"
    json = "json"


app = typer.Typer(help="List, delete and prune snapshots.", invoke_without_command=True)


@app.callback()
def snapshots(
    ctx: typer.Context,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = Format.table,
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """List the snapshots (id, list, date, top-N, sites, status, times, dependencies); see also
    ``snapshots rm`` and ``snapshots prune``.
    """
    if ctx.invoked_subcommand is not None:
        return
    from analysis.snapshots import list_snapshots
    from chokepoints import db

    con = db.connect(db_path, read_only=True)
    try:
        rows = list_snapshots(con)
    finally:
        con.close()
    if fmt == Format.json:
        typer.echo(json.dumps(rows, default=str, indent=2))
        return
    table = Table("id", "list", "list date", "top", "sites", "status", "started", "finished", "deps")
    for r in rows:
        table.add_row(*(("" if r[k] is None else str(r[k])[:19]) for k in (
            "id", "list_name", "list_date", "top_n", "sites", "status", "started_at", "finished_at",
            "dependencies")))
    Console().print(table)


@app.command("rm")
def rm(
    ids: Annotated[list[int], typer.Argument(help="Snapshot ids to delete.")],
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Delete snapshots and all their rows in every table, in one transaction."""
    counts = _delete(db_path, ids)
    typer.echo(f"deleted snapshot{'s' if len(ids) > 1 else ''} {', '.join(map(str, sorted(set(ids))))} "
               f"({sum(counts.values())} rows)")


@app.command("prune")
def prune(
    keep: Annotated[int | None, typer.Option("--keep", min=0, help=(
        "Keep the N newest complete snapshots of each list family; failed and interrupted ones go."))] = None,
    older_than: Annotated[float | None, typer.Option("--older-than", min=0, help=(
        "Delete snapshots started more than DAYS ago (the --keep newest complete ones stay)."))] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be deleted; delete nothing.")] = False,
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Apply a retention rule: delete old snapshots (complete, and failed/interrupted counted apart)."""
    from analysis.snapshots import prune_plan
    from chokepoints import db

    con = db.connect(db_path, read_only=True)
    try:
        plan = prune_plan(con, keep=keep, older_than_days=older_than)
    finally:
        con.close()
    verb = "would delete" if dry_run else "deleted"
    ids = ", ".join(map(str, plan.ids)) or "none"
    if plan.ids and not dry_run:
        _delete(db_path, plan.ids)
    typer.echo(f"{verb} {len(plan.complete)} complete and {len(plan.failed)} failed/interrupted snapshots: {ids}")


def _delete(db_path: Path, ids: list[int]) -> dict[str, int]:
    from analysis.snapshots import delete
    from chokepoints import db
    from chokepoints.lock import hold

    with hold(db_path):
        con = db.connect(db_path)
        try:
            return delete(con, ids)
        finally:
            con.close()
