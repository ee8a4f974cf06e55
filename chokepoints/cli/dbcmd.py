"""``chokepoints db``: database maintenance."""

from __future__ import annotations

import typer

from chokepoints.cli.options import DEFAULT_DB, DbPath

app = typer.Typer(help="Database maintenance (schema migrations).", no_args_is_help=True)


@app.command("migrate")
def migrate(db_path: DbPath = DEFAULT_DB) -> None:
    """Create the database or bring its schema up to date (numbered migrations, forward only),
    then store the metric weights of finished snapshots attributed before they existed."""
    from analysis import aggregates
    from chokepoints import db

    con = db.connect(db_path, apply_migrations=False)
    try:
        applied = db.migrate(con)
        version = con.execute("select max(version) from schema_migrations").fetchall()[0][0]
        filled = aggregates.backfill(con)
    finally:
        con.close()
    if applied:
        typer.echo(f"{db_path}: applied migrations {', '.join(f'{v:04d}' for v in applied)}; schema version {version}")
    else:
        typer.echo(f"{db_path}: schema up to date (version {version})")
    if filled:
        typer.echo(f"{db_path}: stored the metric weights of snapshots {', '.join(map(str, filled))}")
