"""The read-only side stays on its side: analysis never imports the crawler, never writes."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_analysis_never_imports_the_crawler() -> None:
    for path in sorted((ROOT / "analysis").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "crawler" or n.startswith("crawler.") for n in names), path.name


def test_the_analysis_commands_open_the_database_read_only() -> None:
    for name in ("report", "trend", "diff"):
        text = (ROOT / "chokepoints" / "cli" / f"{name}.py").read_text(encoding="utf-8")
        assert "db.connect(db_path, read_only=True)" in text, name
    for path in (ROOT / "analysis" / "sql").glob("*.sql"):
        words = path.read_text(encoding="utf-8").lower().split()
        assert not {"insert", "update", "delete", "create", "drop", "alter"} & set(words), path.name
