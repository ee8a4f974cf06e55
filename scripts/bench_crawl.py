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

from scripts.rss import Sampled, by_progress, run_sampled

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


def run_checked(command: list[str], log: Path) -> Sampled:
    """:func:`scripts.rss.run_sampled`, stopping the benchmark if the command fails."""
    run = run_sampled(command, log)
    if run.code:
        raise SystemExit(f"{' '.join(command[2:5])} failed with {run.code}: see {log}")
    return run


def crawl(lab_dir: Path, db: Path, extra: list[str]) -> dict[str, Any]:
    """A DNS-only crawl of the lab (progress logged every second, for RSS against sites written),
    then re-attribution and a report of its snapshot, each in its own process."""
    run = run_checked([
        sys.executable, "-m", "chokepoints", "crawl", "--lab", "--lab-dir", str(lab_dir), "--db", str(db),
        "--no-http", "--log-interval", "1", "--no-summary", *extra], db.with_suffix(".crawl.log"))
    from chokepoints import db as dbm

    con = dbm.connect(db, read_only=True)
    try:
        sid, sites, stats = con.execute(
            "select snapshot_id, sites, stats from snapshots order by snapshot_id desc limit 1").fetchall()[0]
        pairs = con.execute("select distinct qname, qtype from dns_answers where snapshot_id = ?", [sid]).fetchall()
    finally:
        con.close()
    st = json.loads(stats)
    quarters, after = by_progress(run)
    att = run_checked([sys.executable, "-m", "chokepoints", "attribute", "--db", str(db)],
                      db.with_suffix(".attribute.log"))
    rep = run_checked([sys.executable, "-m", "chokepoints", "report", "--format", "json", "--db", str(db)],
                      db.with_suffix(".report.log"))
    return {"wall": run.wall, "rss_kb": run.peak_kb, "cpu": run.cpu, "sites": sites, "dns_seconds": st["dns_seconds"],
            "queries": st["dns/sent"], "timeouts": st["dns/timeouts"], "pairs": pairs,
            "rss_quarters": ["-" if q is None else f"{q[0]:.0f}/{q[1]:.0f}" for q in quarters],
            "rss_after": "-" if after is None else f"{after[0]:.0f}/{after[1]:.0f}",
            "attribute_s": att.wall, "attribute_rss_kb": att.peak_kb, "report_s": rep.wall}


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
            rows.append((f"crawl RSS mean/max MB per quarter of sites written ({label})",
                         " ".join(r["rss_quarters"]), "", ""))
            rows.append((f"crawl RSS mean/max MB after the crawl step ({label})", r["rss_after"], "", ""))
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
