"""``chokepoints export`` / ``chokepoints ingest``: snapshots as Parquet (logic in chokepoints/exchange.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chokepoints.cli.options import DEFAULT_DB, DbPath


def export(
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False, help="Folder to write (created).")],
    snapshot: Annotated[str, typer.Option("--snapshot", "-s", help="Snapshot id, 'latest' or 'all'.")] = "latest",
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Write snapshots as Parquet, one file per table and snapshot
    (``<table>/snapshot_id=<n>/data.parquet``), with a ``manifest.json`` (versions, row counts, sha256).
    """
    from chokepoints import db
    from chokepoints.exchange import export as run_export

    con = db.connect(db_path, read_only=True)
    try:
        manifest = run_export(con, snapshot, out)
    finally:
        con.close()
    ids = ", ".join(str(s["snapshot_id"]) for s in manifest["snapshots"])
    typer.echo(f"exported snapshot(s) {ids}: {len(manifest['files'])} files, "
               f"{sum(manifest['tables'].values())} rows → {out}")


def ingest(
    folder: Annotated[Path, typer.Argument(file_okay=False, help="A folder written by `chokepoints export`.")],
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Load an exported folder into the database; snapshots it already holds (same uid) are skipped."""
    from chokepoints import db
    from chokepoints.exchange import ingest as run_ingest
    from chokepoints.lock import hold

    with hold(db_path):
        con = db.connect(db_path)
        try:
            result = run_ingest(con, folder)
        finally:
            con.close()
    added = ", ".join(f"{new}" for new in result.added.values()) or "none"
    typer.echo(f"ingested {len(result.added)} snapshot(s) (local ids {added}), skipped {len(result.skipped)} "
               f"already present; {sum(result.rows.values())} rows")
