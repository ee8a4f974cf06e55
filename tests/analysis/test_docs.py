"""Documentation that is tested: the schema page is current, the example queries run, the
new commands have help and appear in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chokepoints.cli.query import run_query
from scripts import gen_schema_doc
from tests.cli import run

ROOT = Path(__file__).resolve().parents[2]
QUERIES = re.findall(r"```sql\n(.*?)```", (ROOT / "docs" / "queries.md").read_text(encoding="utf-8"), re.S)


def test_the_schema_page_is_current() -> None:
    current = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert current == gen_schema_doc.render(), "docs/schema.md is stale: run python -m scripts.gen_schema_doc"


def test_the_schema_page_documents_every_view() -> None:
    page = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    for view in sorted((ROOT / "chokepoints" / "views").glob("v_*.sql")):
        assert f"### `{view.stem}`" in page


def test_there_are_example_queries() -> None:
    assert len(QUERIES) >= 8


@pytest.mark.parametrize("sql", QUERIES, ids=lambda q: " ".join(q.split())[:60])
def test_every_example_query_runs_read_only(sql: str, generated_file: Path) -> None:
    columns, rows = run_query(generated_file, sql)
    assert columns and rows, sql


@pytest.mark.parametrize("cmd", [["trend"], ["diff"]])
def test_new_commands_have_help_and_are_in_the_readme(cmd: list[str]) -> None:
    r = run(*cmd, "--help")
    assert r.returncode == 0 and "Usage" in r.stdout, r.stderr
    assert f"chokepoints {' '.join(cmd)}" in (ROOT / "README.md").read_text(encoding="utf-8")
