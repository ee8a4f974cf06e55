"""The soak: a 50,000-site lab crawl in which 10% of the DNS questions misbehave.

Builds a lab world from a real top list, puts :mod:`scripts.faults.dns_proxy` (a process of its
own) in front of the lab's resolver, crawls through it with the real command line (DNS only),
samples the crawl's RSS every second, then checks that every site is accounted for (exactly
one ``site_outcomes`` row per list entry), that every question the proxy saw has its row, and
that each faulted question was stored as a correct engine stores it.

    python -m scripts.faults.soak                    # 50,000 sites, 10% faults
    python -m scripts.faults.soak --sites 5000 --rate 0.1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from scripts.bench_crawl import default_list
from scripts.rss import describe, run_sampled

ROOT = Path(__file__).resolve().parents[2]


def start_proxy(upstream: str, folder: Path, rate: float, seed: int, timeout: float,
                env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port_file = folder / "proxy.port"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.faults.dns_proxy", "--upstream", upstream, "--rate", str(rate),
         "--seed", str(seed), "--slow-delay", str(timeout * 0.2), "--late-delay", str(timeout * 1.5),
         "--port-file", str(port_file), "--report", str(folder / "proxy.json"), "--questions"],
        stdout=subprocess.DEVNULL, stderr=(folder / "proxy.log").open("w"), env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the fault proxy did not start: {(folder / 'proxy.log').read_text()[-500:]}")
        time.sleep(0.05)
    return proc, int(port_file.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--list", type=Path, help="real top list for the world (default: the Radar list that fits)")
    ap.add_argument("--rate", type=float, default=0.1, help="share of DNS questions given a fault")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="keep the work folder here (the database, logs, proxy report)")
    ap.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                    help="first crawl through the proxy without faults, for the rate to compare with")
    args = ap.parse_args(argv)

    from scripts.faults.scenarios.dns_faults import accounting, check_questions
    from scripts.faults.suite import table
    from scripts.lab import api

    work = Path(tempfile.mkdtemp(prefix="soak."))
    env = {**os.environ, "CHOKEPOINTS_LOOPBACK_ONLY": "1", "CHOKEPOINTS_CACHE": str(work / "cache")}
    os.environ["CHOKEPOINTS_LOOPBACK_ONLY"] = "1"
    lab_dir = work / "lab"
    try:
        t0 = time.perf_counter()
        state = api.up(lab_dir, sites=args.sites, seed=args.seed, list_path=args.list or default_list(args.sites))
        print(f"lab: {state['sites']} sites at {state['resolver']} ({time.perf_counter() - t0:.0f} s)", flush=True)
        baseline = None
        if args.baseline:
            baseline = crawl_through(state, work / "baseline", 0.0, args, env)
            print(f"baseline (proxy, no fault): {baseline['line']}", flush=True)
        run = crawl_through(state, work / "faulty", args.rate, args, env)
        print(f"with faults: {run['line']}", flush=True)
        if run["code"] != 0:
            print(f"crawl failed (exit {run['code']}):\n{run['log'][-2000:]}")
            return 1
        return summarise(run, baseline, args, check_questions, accounting, table)
    finally:
        api.down(lab_dir)
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("knot", "*.zone"))
            print(f"kept in {args.keep}")
        shutil.rmtree(work, ignore_errors=True)


def crawl_through(state: dict[str, Any], folder: Path, rate: float, args: argparse.Namespace,
                  env: dict[str, str]) -> dict[str, Any]:
    """One crawl of the lab through a fault proxy at ``rate``, sampled; what it left behind."""
    folder.mkdir(parents=True)
    db = folder / "soak.duckdb"
    proxy, port = start_proxy(state["resolver"], folder, rate, args.seed, args.timeout, env)
    try:
        crawl = [sys.executable, "-m", "chokepoints", "crawl", "--list", state["list"],
                 "--resolver", f"127.0.0.1:{port}", "--asn-db", state["asn_db"], "--db", str(db),
                 "--no-summary", "--log-interval", "1", "--concurrency", str(args.concurrency),
                 "--timeout", str(args.timeout), "--retries", str(args.retries)]
        helped = subprocess.run([*crawl[:4], "--help"], capture_output=True, text=True, env=env, check=False)
        if "--no-http" in helped.stdout:
            crawl.append("--no-http")
        sampled = run_sampled(crawl, folder / "crawl.log", env=env, every=1.0)
    finally:
        proxy.send_signal(signal.SIGTERM)
        try:
            proxy.wait(60)
        except subprocess.TimeoutExpired:
            proxy.kill()
    log = (folder / "crawl.log").read_text(errors="replace")
    done = [line for line in log.splitlines() if line.startswith("snapshot ")]
    return {"code": sampled.code, "wall": sampled.wall, "peak": sampled.peak_kb, "sampled": sampled, "db": db,
            "log": log,
            "line": done[-1] if done else "(no snapshot line)",
            "report": json.loads((folder / "proxy.json").read_text())}


def _dns_seconds(db: Path) -> float:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        (stats,) = con.execute("select stats from snapshots order by snapshot_id desc limit 1").fetchone() or ("{}",)
    finally:
        con.close()
    return float(json.loads(stats or "{}").get("dns_seconds", 0.0))


def summarise(run: dict[str, Any], baseline: dict[str, Any] | None, args: argparse.Namespace,
              check_questions: Any, accounting: Any, table: Any) -> int:
    import duckdb

    db, report, wall, sampled, log = (run[k] for k in ("db", "report", "wall", "sampled", "log"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        sid, status, stats = con.execute(
            "select snapshot_id, status, stats from snapshots order by snapshot_id desc limit 1"
        ).fetchone() or (0, "", "{}")
        (no_outcome,) = con.execute(
            "select count(*) from list_entries e where snapshot_id = ? and not exists (select 1 from site_outcomes o"
            " where o.snapshot_id = e.snapshot_id and o.domain = e.domain)", [sid]).fetchone() or (0,)
        (twice,) = con.execute("select count(*) from (select domain from site_outcomes where snapshot_id = ?"
                               " group by 1 having count(*) > 1)", [sid]).fetchone() or (0,)
    finally:
        con.close()
    st = json.loads(stats or "{}")
    faulted = [tuple(f) for f in report["faulted"]]
    seen = {(q, t) for q, t in report.get("seen", [])}
    acc = accounting(db, int(sid), seen)
    rows = check_questions(db, int(sid), faulted, retries=args.retries)
    injected = Counter(f[2] for f in faulted)
    dns_s = float(st.get("dns_seconds", 0.0))
    print()
    print(table(rows))
    print()
    print(f"soak: {acc['entries']:,} sites listed, {acc['distinct']:,} with an outcome ({no_outcome} without, "
          f"{twice} with two or more); snapshot {status}")
    print("site statuses: " + ", ".join(f"{k} {v:,}" for k, v in acc["statuses"].items()))
    print(f"questions: {report['questions']:,} seen by the proxy ({report['queries']:,} packets), "
          f"{len(seen) - acc['unstored']:,} stored, {acc['unstored']} without a row; proxy send errors "
          f"{report.get('send_errors', 0)}")
    print(f"faults injected ({sum(injected.values()):,} questions, {args.rate:.0%} rate): "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(injected.items())))
    print(f"engine: sent {st.get('dns/sent', '?'):,} timeouts {st.get('dns/timeouts', '?'):,} retries "
          f"{st.get('dns/retries', '?'):,} tcp fallbacks {st.get('dns/tcp_fallbacks', '?'):,} dropped replies "
          f"{st.get('dns/mismatched', '?'):,}")
    print(f"time: crawl wall {wall:.0f} s, DNS phase {dns_s:.0f} s ({acc['entries'] / max(dns_s, 1e-9):,.0f} sites/s)")
    if baseline is not None:
        clean_s = _dns_seconds(baseline["db"])
        print(f"rate: {acc['entries'] / max(dns_s, 1e-9):,.0f} sites/s with {args.rate:.0%} faults vs "
              f"{acc['entries'] / max(clean_s, 1e-9):,.0f} sites/s through the same proxy without "
              f"(DNS phase {clean_s:.0f} s, peak RSS {baseline['peak'] / 1024:.0f} MB), "
              f"--concurrency {args.concurrency}: {clean_s / max(dns_s, 1e-9):.0%} of the fault-free rate "
              "(a batch of sites frees its slot when its slowest site is done)")
    print(f"memory ({len(sampled.samples)} samples): {describe(sampled)}")
    if sampled.samples:
        step = max(1, len(sampled.samples) // 12)
        print("RSS samples (s: MB @ sites done): " + ", ".join(
            f"{t:.0f}: {v / 1024:.0f} @ {d:,}" for t, v, d in sampled.samples[::step]))
    lost = (acc["entries"] - acc["distinct"]) + twice + acc["unstored"] + sum(r.rows_lost for r in rows)
    bad = [r for r in rows if not r.passed]
    print(f"rows lost {lost}; fault kinds not stored as expected: {len(bad)}; tracebacks in the crawl log: "
          f"{log.count('Traceback (most recent call last)')}")
    return 0 if lost == 0 and status == "complete" and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
