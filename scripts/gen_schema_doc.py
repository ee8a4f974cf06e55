"""Write ``docs/schema.md``: every table and view, read from a freshly migrated database.

Tables, views, columns, types, nullability and defaults come from DuckDB's catalogue
(``duckdb_tables()``, ``duckdb_views()``, ``duckdb_columns()``) of an in-memory database with
every migration and view applied; the prose comes from the comments of the SQL that made them
(the comment block before ``create table``, a column's trailing ``--`` comment, a view file's
leading comment). A test fails when the committed page differs from what this writes::

    python -m scripts.gen_schema_doc            # rewrite docs/schema.md
    python -m scripts.gen_schema_doc --check    # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib.resources import files
from pathlib import Path

from chokepoints import db

OUT = Path(__file__).resolve().parents[1] / "docs" / "schema.md"
_CREATE = re.compile(r"^create table (?:if not exists )?(\w+)", re.I)
_ALTER = re.compile(r"^alter table (\w+) add column (?:if not exists )?(\w+)[^;]*;\s*(?:--\s*(.*))?$", re.I)
_COLUMN = re.compile(r"^(\w+)\s+[^-]*?(?:--\s*(.*))?$")


def migration_comments() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Table descriptions and column comments, from the migrations' SQL comments."""
    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    for mig in db.migrations():
        pending: list[str] = []
        current: str | None = None
        for line in mig.sql.splitlines():
            text = line.strip()
            if current is None:
                if m := _CREATE.match(text):
                    current = m.group(1)
                    if pending:
                        tables[current] = " ".join(pending)
                    pending = []
                elif m := _ALTER.match(text):
                    if m.group(3):
                        columns[(m.group(1), m.group(2))] = m.group(3).strip()
                elif text.startswith("--"):
                    pending.append(text[2:].strip())
                else:
                    pending = []
            elif text.startswith(")"):
                current = None
            elif (m := _COLUMN.match(text)) and m.group(2):
                columns[(current, m.group(1))] = m.group(2).strip()
    return tables, columns


def view_comments() -> dict[str, str]:
    """Each view's description: the leading comment block of its file."""
    out = {}
    for entry in files("chokepoints").joinpath("views").iterdir():
        if entry.name.endswith(".sql"):
            lead = []
            for line in entry.read_text(encoding="utf-8").splitlines():
                if not line.startswith("--"):
                    break
                lead.append(line[2:].strip())
            out[entry.name.removesuffix(".sql")] = " ".join(lead)
    return out


def cell(value: object) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The schema page as Markdown."""
    con = db.connect(":memory:")
    try:
        migs = con.execute("select version, name from schema_migrations order by version").fetchall()
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' order by table_name").fetchall()]
        views = [r[0] for r in con.execute(
            "select view_name from duckdb_views() where not internal and schema_name = 'main'"
            " order by view_name").fetchall()]
        cols = con.execute(
            "select table_name, column_name, data_type, is_nullable, column_default from duckdb_columns()"
            " where schema_name = 'main' order by table_name, column_index").fetchall()
    finally:
        con.close()
    by_table: dict[str, list[tuple[str, str, bool, object]]] = {}
    for table, column, dtype, nullable, default in cols:
        by_table.setdefault(table, []).append((column, dtype, nullable, default))
    table_notes, column_notes = migration_comments()
    view_notes = view_comments()
    lines = [
        "# Database schema",
        "",
        "Generated from a freshly migrated database by `python -m scripts.gen_schema_doc`; do not edit by",
        "hand (a test fails when this page is stale). Schema version "
        f"{migs[-1][0]}: migrations {', '.join(f'{v:04d} {n}' for v, n in migs)}.",
        "",
        "Every fact row carries `snapshot_id`. Views are re-created whenever a writable connection",
        "opens, so they always match the code; `docs/queries.md` shows them at work.",
        "",
        "## Tables",
        "",
    ]
    for table in tables:
        lines += [f"### `{table}`", ""]
        if table in table_notes:
            lines += [table_notes[table], ""]
        lines += ["| column | type | null | default | description |", "|---|---|---|---|---|"]
        for column, dtype, nullable, default in by_table.get(table, []):
            lines.append(f"| `{column}` | {cell(dtype)} | {'yes' if nullable else 'no'} | {cell(default)} | "
                         f"{cell(column_notes.get((table, column)))} |")
        lines.append("")
    lines += ["## Views", ""]
    for view in views:
        lines += [f"### `{view}`", ""]
        if view_notes.get(view):
            lines += [view_notes[view], ""]
        lines += ["| column | type |", "|---|---|"]
        lines += [f"| `{column}` | {cell(dtype)} |" for column, dtype, _, _ in by_table.get(view, [])]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write docs/schema.md from a freshly migrated database.")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="Exit 1 if the page is stale; write nothing.")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run python -m scripts.gen_schema_doc", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
