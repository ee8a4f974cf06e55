"""``chokepoints query``: run SQL on the database, opened read-only."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chokepoints.cli.options import DEFAULT_DB, DbPath
from chokepoints.errors import ReadOnlyQuery, UserError

READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN", "PRAGMA", "RELATION"}


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def run_query(db_path: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run read-only SQL; refuse anything that is not a query with :class:`ReadOnlyQuery`.

    Three locks: statement types are checked before running, the file is opened read-only,
    and external access (files, extensions, network) is disabled on the connection.
    """
    from chokepoints import db

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise UserError(f"SQL error: {str(exc).splitlines()[0]}") from exc
    if not statements:
        raise UserError("no SQL statement given")
    for st in statements:
        kind = st.type.name
        if kind not in READ_ONLY_STATEMENTS:
            raise ReadOnlyQuery(f"refused a {kind} statement: `query` opens the database read-only")
    con = db.connect(db_path, read_only=True)
    try:
        con.execute("set enable_external_access = false")
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description or []]
        return cols, cur.fetchall()
    except duckdb.Error as exc:
        raise UserError(f"SQL error: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()


def query(
    sql: Annotated[str, typer.Argument(help="The SQL to run (SELECT, EXPLAIN, PRAGMA ...).")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, csv or json (one object per row).")] = (
        Format.table),
    db_path: DbPath = DEFAULT_DB,
) -> None:
    """Run SQL on the database, opened read-only; statements that write are refused.

    Tables: snapshots, list_entries, list_rejects, site_outcomes, dns_answers, ip_origins,
    as_names, range_feeds, ip_ranges, snapshot_feeds, ip_range_matches, rdap_networks,
    address_providers, evidence, dependencies, providers. Views: v_latest_snapshot,
    v_site_providers, v_provider_shares, v_layer_concentration, v_snapshot_summary.
    The schema page is docs/schema.md; example queries are in docs/queries.md.
    """
    cols, rows = run_query(db_path, sql)
    if fmt is Format.csv:
        w = csv.writer(sys.stdout)
        w.writerow(cols)
        w.writerows(rows)
    elif fmt is Format.json:
        for row in rows:
            typer.echo(json.dumps(dict(zip(cols, row, strict=True)), default=str))
    else:
        table = Table(show_edge=False)
        for c in cols:
            table.add_column(Text(c))
        for row in rows:
            table.add_row(*(Text("" if v is None else str(v)) for v in row))
        Console().print(table)
