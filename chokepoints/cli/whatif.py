"""``chokepoints whatif``: what share of the sites an outage would take down."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chokepoints.cli.options import DEFAULT_DB, DbPath, SnapshotOpt
from chokepoints.errors import UserError


class Format(StrEnum):
    table = "table"
    json = "json"


class RankBy(StrEnum):
    provider = "provider"
    region = "region"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def whatif(
    provider: Annotated[list[str] | None, typer.Option("--provider", "-p", help=(
        "Provider id that fails (repeatable); its services fail with it (aws: also cloudfront, route53)."))] = None,
    region: Annotated[str | None, typer.Option("--region", help="Only this region fails, e.g. us-east-1.")] = None,
    service: Annotated[str | None, typer.Option("--service", help="Only this service of it fails, e.g. EC2.")] = None,
    transitive: Annotated[bool, typer.Option("--transitive", help=(
        "DNS providers whose name servers are hosted in what failed fail too."))] = False,
    rank: Annotated[bool, typer.Option("--rank", help="Rank the outages that would take down most sites.")] = False,
    by: Annotated[RankBy, typer.Option("--by", help="With --rank: providers, or provider regions.")] = RankBy.provider,
    top: Annotated[int, typer.Option("--top", min=0, help="Affected sites (or ranked outages) to list.")] = 10,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = Format.table,
    snapshot: SnapshotOpt = "latest",
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """If a provider — or only one of its regions or services — failed, which sites would go
    down (dns, hosting or their CDN front left with nothing) and which degraded?

    Shares are of all the snapshot's sites, uniformly and weighted by popularity.
    """
    from analysis.whatif import Outage, impact, ranking
    from chokepoints import db

    if not rank and not provider:
        raise UserError("give --provider ID (repeatable), or --rank")
    con = db.connect(db_path, read_only=True)
    try:
        sid = db.resolve_snapshot(con, snapshot)
        if rank:
            results = [i.as_dict() for i in ranking(con, sid, by=by.value, limit=top, transitive=transitive)]
        else:
            known = {r[0] for r in con.execute("select distinct provider from providers where snapshot_id = ?",
                                                [sid]).fetchall()}
            unknown = [p for p in provider or [] if p not in known]
            if unknown:
                raise UserError(f"no provider {', '.join(unknown)} in snapshot {sid} "
                                f"(see `chokepoints report` for provider ids)")
            results = [impact(con, sid, Outage(tuple(provider or ()), region, service, transitive), top=top).as_dict()]
    finally:
        con.close()
    if fmt is Format.json:
        typer.echo(json.dumps({"snapshot_id": sid, "results": results}, indent=2))
        return
    _print(results, rank, sid)


def _print(results: list[dict[str, Any]], rank: bool, sid: int) -> None:
    console = Console()
    if rank:
        table = Table(title=Text(f"snapshot {sid}: outages ranked by sites down"), title_justify="left")
        for col in ("outage", "down", "down %", "degraded", "degraded %", "down % (popularity)"):
            table.add_column(col, justify="left" if col == "outage" else "right")
        for r in results:
            table.add_row(Text(r["scenario"]), str(r["down"]), _pct(r["down_share"]), str(r["degraded"]),
                          _pct(r["degraded_share"]), _pct(r["down_weight_share"]))
        console.print(table)
        return
    r = results[0]
    console.print(Text(f"snapshot {sid} · outage: {r['scenario']}", style="bold"))
    console.print(f"down: {r['down']} of {r['sites']} sites ({_pct(r['down_share'])}; "
                  f"{_pct(r['down_weight_share'])} of popularity weight)")
    console.print(f"degraded: {r['degraded']} ({_pct(r['degraded_share'])}; "
                  f"{_pct(r['degraded_weight_share'])} of popularity weight)")
    if r["affected"]:
        table = Table(title=Text("most popular affected sites"), title_justify="left")
        for col in ("rank", "site", "status", "down layers", "degraded layers"):
            table.add_column(col)
        for a in r["affected"]:
            table.add_row(str(a["rank"]), Text(a["domain"]), a["status"], a["down_layers"] or "",
                          a["degraded_layers"] or "")
        console.print(table)
