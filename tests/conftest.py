"""Shared fixtures: a real DuckDB with migrations applied, the shared reference data."""

from __future__ import annotations

import contextlib
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


@pytest.fixture(scope="session", autouse=True)
def _no_server_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the session, stop any server still running from this session's temp folders
    (a lab whose test was interrupted): nothing the suite starts may outlive it."""
    yield
    import signal

    base = str(tmp_path_factory.getbasetemp())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        servers = ("knotd", "unbound", "rdap_main", "http_main", "redis-server")
        if base in cmdline and any(s in cmdline for s in servers):
            with contextlib.suppress(OSError):
                os.kill(int(proc.name), signal.SIGTERM)
