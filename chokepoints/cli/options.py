"""Options shared by several commands, as reusable ``Annotated`` aliases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chokepoints.config import DEFAULT_CACHE_DIR
from chokepoints.db import DEFAULT_DB

DbPath = Annotated[
    Path, typer.Option("--db", help=(
        "The DuckDB database file (read-only commands also take a folder written by `export`)."),
        show_default=True),
]
SnapshotOpt = Annotated[
    str, typer.Option("--snapshot", "-s", help="Snapshot id, or 'latest' (the newest completed one)."),
]
LabDir = Annotated[
    Path, typer.Option("--lab-dir", help="Folder holding the lab's world and state.json.", file_okay=False),
]
CacheDir = Annotated[
    Path, typer.Option("--cache-dir", file_okay=False, help="Cache for downloads (env CHOKEPOINTS_CACHE)."),
]
DEFAULT_LAB_DIR = Path(".lab")
__all__ = ["DEFAULT_CACHE_DIR", "DEFAULT_DB", "DEFAULT_LAB_DIR", "CacheDir", "DbPath", "LabDir", "SnapshotOpt"]
