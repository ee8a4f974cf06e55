"""Benchmark a whole crawl on the lab: DNS queries/s and sites/s beside the server's raw speed.

Builds a lab world, crawls it twice with the real command line (first against the resolver's
cold cache, then warm), then measures the same server with dnsperf on exactly the queries the
crawl sent, in the same run. Prints one table with peak RSS of each process (``wait4``).

    python3 -m scripts.bench_crawl --sites 10000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RADAR = ROOT.parent / "shared" / "data" / "toplists" / "cloudflare_radar"


def default_list(sites: int) -> Path | None:
    """The smallest Radar list (newest date) that holds ``sites`` domains."""
    for size in (1000, 10000, 100000):
        if size >= sites:
            found = sorted(RADAR.glob(f"radar_top-{size}_*.csv.gz"))
            if found:
                return found[-1]
    return None


def run_sampled(command: list[str], every: float = 0.5) -> tuple[float, int, float, list[int]]:
    """Run ``command``; its wall time, peak RSS (KiB, wait4), CPU seconds and RSS samples (KiB)."""
    import os
    import subprocess
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        samples.append(int(line.split()[1]))
            except OSError:
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(command[2:5])} failed with {proc.returncode}")
    return time.perf_counter() - t0, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, samples


def crawl(lab_dir: Path, db: Path, extra: list[str]) -> dict[str, Any]:
    wall, rss_kb, cpu, samples = run_sampled([
        sys.executable, "-m", "chokepoints", "crawl", "--lab", "--lab-dir", str(lab_dir), "--db", str(db),
        "--no-progress", "--no-summary", *extra])
    from chokepoints import db as dbm

    con = dbm.connect(db, read_only=True)
    try:
        sid, sites, stats = con.execute(
            "select snapshot_id, sites, stats from snapshots order by snapshot_id desc limit 1").fetchall()[0]
        pairs = con.execute("select distinct qname, qtype from dns_answers where snapshot_id = ?", [sid]).fetchall()
    finally:
        con.close()
    st = json.loads(stats)
    quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)] // 1024 for q in (1, 2, 3, 4)] if samples else []
    att_wall, att_rss, _, _ = run_sampled([sys.executable, "-m", "chokepoints", "attribute", "--db", str(db)])
    rep_wall, _, _, _ = run_sampled([sys.executable, "-m", "chokepoints", "report", "--format", "json",
                                           "--db", str(db)])
    return {"wall": wall, "rss_kb": rss_kb, "cpu": cpu, "sites": sites, "dns_seconds": st["dns_seconds"],
            "queries": st["dns/sent"], "timeouts": st["dns/timeouts"], "pairs": pairs, "rss_quarters": quarters,
            "attribute_s": att_wall, "attribute_rss_kb": att_rss, "report_s": rep_wall}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--list", type=Path, help="real top list to draw the world from (default: Radar)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=300, help="sites in flight in the crawl")
    ap.add_argument("--dnsperf-seconds", type=float, default=10.0)
    ap.add_argument("--dnsperf-concurrency", type=int, default=200)
    ap.add_argument("--runs", default="cold,warm", help="crawls to run: cold and/or warm resolver cache")
    ap.add_argument("--keep", type=Path, help="keep the last crawl's database here")
    args = ap.parse_args(argv)

    from scripts.bench_dns import run_dnsperf
    from scripts.lab import api

    tmp = Path(tempfile.mkdtemp(prefix="bench_crawl."))
    lab_dir = tmp / "lab"
    try:
        t0 = time.perf_counter()
        state = api.up(lab_dir, sites=args.sites, seed=args.seed, list_path=args.list or default_list(args.sites))
        lab_s = time.perf_counter() - t0
        print(f"lab: {state['sites']} sites at {state['resolver']} (built and started in {lab_s:.1f} s)", flush=True)
        rows: list[tuple[str, str, str, str]] = []
        runs = {}
        for label in args.runs.split(","):
            runs[label] = r = crawl(lab_dir, tmp / f"{label}.duckdb", ["-c", str(args.concurrency)])
            print(f"crawl ({label} resolver cache): {r['sites']} sites in {r['dns_seconds']:.1f} s", flush=True)
        last = runs[list(runs)[-1]]
        lines = [f"{q} {t}" for q, t in last["pairs"][:500_000]]
        perf = run_dnsperf(shutil.which("dnsperf") or "/usr/bin/dnsperf", state["resolver"], lines, tmp,
                           seconds=args.dnsperf_seconds, concurrency=args.dnsperf_concurrency)
        server_qps = perf["qps"]
        for label, r in runs.items():
            qps = r["queries"] / r["dns_seconds"]
            rows.append((f"crawl DNS queries/s ({label})", f"{qps:,.0f}", f"{server_qps:,.0f} dnsperf",
                         f"{qps / server_qps:.2f}"))
            rows.append((f"crawl sites/s ({label})", f"{r['sites'] / r['dns_seconds']:,.0f}", "", ""))
            rows.append((f"crawl wall time ({label}, incl. start, ASN, attribution)", f"{r['wall']:.1f} s", "", ""))
            rows.append((f"queries per site / timeouts ({label})", f"{r['queries'] / r['sites']:.1f} / {r['timeouts']}",
                         "", ""))
            rows.append((f"crawl peak RSS / CPU seconds ({label})", f"{r['rss_kb'] / 1024:.0f} MB / {r['cpu']:.1f}",
                         "", ""))
            rows.append((f"crawl RSS at 25/50/75/100% of the run, MB ({label})",
                         "/".join(str(x) for x in r["rss_quarters"]), "", ""))
            rows.append((f"re-attribution (ranges + SQL), s / peak MB ({label})",
                         f"{r['attribute_s']:.1f} / {r['attribute_rss_kb'] // 1024}", "", ""))
            rows.append((f"report --format json, s ({label})", f"{r['report_s']:.1f}", "", ""))
        rows.append(("dnsperf peak RSS", f"{perf['rss_kb'] / 1024:.0f} MB", "", ""))
        print()
        print(f"{'figure':<58} {'value':>14} {'baseline (same run)':>22} {'ratio':>6}")
        for fig, val, base, ratio in rows:
            print(f"{fig:<58} {val:>14} {base:>22} {ratio:>6}")
        if args.keep:
            shutil.copy(tmp / f"{list(runs)[-1]}.duckdb", args.keep)
        return 0
    finally:
        api.down(lab_dir)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
