"""Shared fixtures: a real DuckDB with migrations applied, the shared reference data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from chokepoints import db

# Hermetic: no downloads, no DNS server off loopback, in this process and every subprocess.
os.environ["CHOKEPOINTS_LOOPBACK_ONLY"] = "1"

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = db.connect(":memory:")
    yield c
    c.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
