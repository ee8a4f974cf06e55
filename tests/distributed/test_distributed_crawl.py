"""A distributed crawl on the lab: a real Redis, a coordinator and three workers as processes.

Every site must be measured exactly once, and the result must equal a single-process crawl of
the same world.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chokepoints import db
from tests.cli import run
from tests.distributed.redis_server import running_redis

SITES = 300
WORKERS = 3

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None and not Path("/usr/bin/redis-server").exists(),
    reason="redis-server not installed",
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from scripts.lab.testing import running_lab

    with running_lab(tmp_path_factory.mktemp("lab"), sites=SITES, seed=3) as state:
        yield state


def _worker(url: str, shards: Path, lab: dict[str, Any], name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "chokepoints", "crawl", "--worker", "--redis", url, "--shards", str(shards),
         "--lab", "--lab-dir", lab["state_dir"], "--worker-id", name, "--concurrency", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _facts(path: Path) -> tuple[int, int, set[tuple[Any, ...]], dict[str, Any]]:
    con = db.connect(path, read_only=True)
    try:
        (outcomes, distinct) = con.execute(
            "select count(*), count(distinct domain) from site_outcomes").fetchall()[0]
        deps = set(con.execute(
            "select domain, layer, provider, evidence, evidence_value from dependencies").fetchall())
        snap = db.fetch_dicts(con, "select status, stats from snapshots")[0]
        return outcomes, distinct, deps, snap
    finally:
        con.close()


def test_coordinator_and_three_workers_equal_one_process(lab: dict[str, Any], tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    with running_redis(tmp_path) as url:
        workers = [_worker(url, shards, lab, f"w{i}") for i in range(WORKERS)]
        try:
            r = run("crawl", "--coordinator", "--redis", url, "--shards", shards, "--lab",
                    "--lab-dir", lab["state_dir"], "--db", tmp_path / "dist.duckdb", "--no-progress",
                    "--no-summary", "--timeout", "1", timeout=120)
            assert r.returncode == 0, r.stderr
            for w in workers:
                _, err = w.communicate(timeout=60)
                assert w.returncode == 0, err
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
                    w.communicate()
    single = run("crawl", "--lab", "--lab-dir", lab["state_dir"], "--no-http", "--db", tmp_path / "one.duckdb",
                 "--no-progress", "--no-summary", "--timeout", "1")
    assert single.returncode == 0, single.stderr

    outcomes, distinct, deps, snap = _facts(tmp_path / "dist.duckdb")
    assert snap["status"] == "complete"
    stats = json.loads(snap["stats"]) if isinstance(snap["stats"], str) else snap["stats"]
    assert stats["distributed/workers"] == WORKERS
    assert outcomes == distinct == SITES
    written = sorted(p.name for p in shards.glob("*/site_outcomes/shard-*.parquet"))
    assert written and not list(shards.glob("*/*/.*.tmp"))
    one_outcomes, _, one_deps, _ = _facts(tmp_path / "one.duckdb")
    assert one_outcomes == SITES
    assert deps == one_deps


def test_worker_needs_redis_and_shards() -> None:
    r = run("crawl", "--worker")
    assert r.returncode == 1
    assert "--redis" in r.stderr and "Traceback" not in r.stderr
