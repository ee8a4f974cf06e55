"""``chokepoints attribute``: recompute a stored snapshot's dependencies (no re-crawl)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chokepoints.cli.options import DEFAULT_DB, DbPath, SnapshotOpt


def attribute(
    snapshot: SnapshotOpt = "latest",
    registry: Annotated[Path | None, typer.Option("--registry", exists=True, dir_okay=False, help=(
        "Provider registry TOML (default: the bundled datasets/providers.toml)."))] = None,
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Re-attribute a stored snapshot with the current registry and data.

    Reads only what the crawl stored (DNS answers, address origins) and replaces the snapshot's
    dependencies, and the metric sums report and trend read, in one transaction; the registry
    version and hash used are recorded on the snapshot.
    """
    from chokepoints import db
    from crawler import attribution
    from crawler import registry as registry_mod

    reg = registry_mod.load(registry)
    con = db.connect(db_path)
    try:
        sid = db.resolve_snapshot(con, snapshot)
        before = con.execute("select count(*) from dependencies where snapshot_id = ?", [sid]).fetchall()[0][0]
        after = attribution.attribute(con, sid, reg)
    finally:
        con.close()
    typer.echo(f"snapshot {sid}: {before} -> {after} dependencies (registry {reg.version}, {reg.sha256[:12]})")
