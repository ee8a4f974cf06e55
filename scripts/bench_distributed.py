"""Benchmark the distributed crawl: sites/s with 1, 2 and 3 workers beside one process, same run.

Builds a lab world, warms its resolver's cache with one discarded crawl, then crawls it once
in a single process and once per worker count with a coordinator, workers and a throwaway
``redis-server`` on loopback. "DNS s" is the snapshot's ``dns_seconds`` (for the distributed
crawl: from queueing the first batch to the last shard written, ingest included); "wall s" is
the whole command, attribution included. RDAP is off (it is not what is measured).

    python3 -m scripts.bench_distributed --sites 5000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scripts.bench_crawl import default_list


def _crawl(args: list[str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "chokepoints", "crawl", *args, "--no-progress", "--no-summary",
                        "--no-rdap"], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"crawl failed:\n{r.stderr}")
    return time.perf_counter() - t0


def _stats(db: Path) -> dict[str, Any]:
    from chokepoints import db as dbm

    con = dbm.connect(db, read_only=True)
    try:
        (raw, sites) = con.execute("select stats, sites from snapshots order by snapshot_id desc limit 1").fetchall()[0]
    finally:
        con.close()
    stats: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    stats["sites"] = sites
    return stats


def single(lab_dir: Path, db: Path) -> tuple[float, float, int]:
    """One-process crawl: (dns seconds, wall seconds, sites)."""
    wall = _crawl(["--lab", "--lab-dir", str(lab_dir), "--db", str(db)])
    s = _stats(db)
    return float(s["dns_seconds"]), wall, int(s["sites"])


def distributed(lab_dir: Path, db: Path, tmp: Path, workers: int) -> tuple[float, float, int]:
    """Coordinator plus ``workers`` worker processes: (dns seconds, wall seconds, sites)."""
    from tests.distributed.redis_server import running_redis

    shards = tmp / f"shards-{workers}"
    with running_redis(tmp) as url:
        procs = [subprocess.Popen(
            [sys.executable, "-m", "chokepoints", "crawl", "--worker", "--redis", url, "--shards", str(shards),
             "--lab", "--lab-dir", str(lab_dir), "--worker-id", f"w{i}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(workers)]
        try:
            wall = _crawl(["--coordinator", "--redis", url, "--shards", str(shards), "--lab",
                           "--lab-dir", str(lab_dir), "--db", str(db)])
            for p in procs:
                p.wait(timeout=120)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    s = _stats(db)
    return float(s["dns_seconds"]), wall, int(s["sites"])


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    from scripts.lab.testing import running_lab

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=5000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    os.environ.setdefault("CHOKEPOINTS_LOOPBACK_ONLY", "1")
    with tempfile.TemporaryDirectory(prefix="bench-dist-") as d:
        tmp = Path(d)
        print(f"building a {a.sites}-site lab ...", file=sys.stderr)
        with running_lab(tmp / "lab", sites=a.sites, seed=a.seed, list_path=default_list(a.sites)) as state:
            lab_dir = Path(state["state_dir"])
            _crawl(["--lab", "--lab-dir", str(lab_dir), "--db", str(tmp / "warm.duckdb")])  # warm the cache
            rows = [("single process", *single(lab_dir, tmp / "single.duckdb"))]
            for n in a.workers:
                print(f"{n} worker(s) ...", file=sys.stderr)
                rows.append((f"{n} worker{'s' if n > 1 else ''}", *distributed(lab_dir, tmp / f"d{n}.duckdb", tmp, n)))
    base = rows[0][3] / rows[0][1]
    print(f"{os.cpu_count()} CPUs, {a.sites}-site lab, warm resolver cache")
    print(f"{'crawl':<16} {'sites':>6} {'DNS s':>7} {'sites/s':>8} {'vs single':>9} {'wall s':>7}")
    for name, dns_s, wall, sites in rows:
        rate = sites / dns_s
        print(f"{name:<16} {sites:>6} {dns_s:>7.2f} {rate:>8,.0f} {rate / base:>8.2f}x {wall:>7.1f}")


if __name__ == "__main__":
    main()
