"""Benchmark every stage and the whole crawl on one lab world, each beside its baseline, in one run.

Builds one lab world of ``--sites`` sites (``chokepoints lab up`` in a process of its own, so that
this driver stays small: a child's ``wait4`` peak also counts its parent's), then measures, in
this order (the crawl first, against the resolver's cold cache):

1. the whole DNS-only crawl (:func:`scripts.bench_crawl.crawl`: the real command line in its own
   process; wall time, sites/s, queries/s, peak RSS, RSS per quarter of the sites written and
   after the crawl step), beside dnsperf on exactly the (name, type) pairs it asked;
2. re-attribution (``chokepoints attribute``) and ``report --format json`` on its database;
3. the DNS engine alone (:func:`scripts.bench_dns.compare`: A queries for the lab's names,
   ``domain`` and ``www.domain``), beside a naive dnspython ``asyncquery.udp`` loop and dnsperf;
   by default 20 queries a site between 20,000 and 300,000, and a tenth of that (2,000 to 20,000)
   for the naive loop;
4. published-range matching (:func:`scripts.bench_attribution.measure`, its own process) of
   addresses drawn from the real published ranges, 100 a site up to 1,000,000 by default (the
   crawl's own distinct addresses are too few to time at 10k sites: their matching is part of
   re-attribution), beside a plain pyasn loop over the same addresses with a real RouteViews
   table (``--asn-db``; the lab's own holds only the world's prefixes, so most drawn addresses
   would miss in it and the loop would look faster than it is);
5. our HTTP download handler beside plain Scrapy's on the same lab pages
   (:func:`scripts.bench_http.compare_handlers`): ``https://<host>/`` once for each host with a
   valid certificate of the first ``--http-sites`` sites of the list (``--no-http``: skipped).

Prints one table: figure, value, baseline (same run), ratio, peak RSS; ``--json PATH`` writes
its rows too.

    python -m scripts.bench --sites 10000       # CI-sized: about 2 minutes on 2 cores
    python -m scripts.bench --sites 1000000     # on demand: the crawl alone ~14 min; ~5 GB for the lab's servers

At 1M the list is generated (no Radar list that long is stored) unless ``--list`` names one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts import bench_attribution, bench_crawl, bench_dns, bench_http

Row = tuple[str, str, str, str, str]


def lab_up(lab_dir: Path, sites: int, seed: int, list_path: Path | None) -> tuple[dict[str, Any], Row]:
    """The lab world, built and started by ``chokepoints lab up`` in its own process; its row."""
    command = [sys.executable, "-m", "chokepoints", "lab", "up", "--lab-dir", str(lab_dir), "--sites", str(sites),
               "--seed", str(seed), *(["--list", str(list_path)] if list_path else [])]
    wall, rss_kb, _ = bench_http.run_measured(command)
    state: dict[str, Any] = json.loads((lab_dir / "state.json").read_text())
    return state, ("lab world built and started, s", f"{wall:.1f}", "", "", mb(rss_kb))


def mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


def times(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def crawl_rows(lab_dir: Path, state: dict[str, Any], db: Path, args: argparse.Namespace) -> list[Row]:
    """The DNS-only crawl, dnsperf on its queries, re-attribution and the report."""
    r = bench_crawl.crawl(lab_dir, db, ["-c", str(args.concurrency)])
    lines = [f"{q} {t}" for q, t in r.pop("pairs")[:500_000]]
    perf = bench_dns.run_dnsperf(args.dnsperf, state["resolver"], lines, db.parent,
                                 seconds=args.dnsperf_seconds, concurrency=args.dnsperf_concurrency)
    del lines
    qps = r["queries"] / r["dns_seconds"]
    return [
        ("crawl DNS queries/s (cold resolver cache)", f"{qps:,.0f}", f"{perf['qps']:,.0f} dnsperf",
         times(qps, perf["qps"]), mb(r["rss_kb"])),
        ("crawl sites/s", f"{r['sites'] / r['dns_seconds']:,.0f}", "", "", ""),
        ("crawl wall time, s (start, DNS, ASN, RDAP, ranges, attribution)", f"{r['wall']:.1f}", "", "", ""),
        ("crawl queries per site / timeouts", f"{r['queries'] / r['sites']:.1f} / {r['timeouts']}", "", "", ""),
        ("crawl CPU s", f"{r['cpu']:.1f}", "", "", ""),
        ("crawl RSS mean/max MB per quarter of sites written", " ".join(r["rss_quarters"]), "", "", ""),
        ("crawl RSS mean/max MB after the crawl step", r["rss_after"], "", "", ""),
        ("dnsperf on the crawl's queries, peak RSS", "", "", "", mb(perf["rss_kb"])),
        ("re-attribution (chokepoints attribute: ranges + SQL), s", f"{r['attribute_s']:.1f}", "", "",
         mb(r["attribute_rss_kb"])),
        ("report --format json, s", f"{r['report_s']:.1f}", "", "", ""),
    ]


def dns_rows(state: dict[str, Any], workdir: Path, args: argparse.Namespace) -> list[Row]:
    """The DNS engine alone beside the naive dnspython loop and dnsperf, on the lab's names."""
    _, names = bench_dns.names_from_lab(Path(state["state_dir"]) / "state.json")
    queries = args.queries or min(300_000, max(20_000, 20 * args.sites))
    naive = args.naive_queries or min(20_000, max(2_000, queries // 10))
    (_, eng), (_, py), (_, perf) = bench_dns.compare(
        state["resolver"], names, workdir, queries=queries, naive_queries=naive,
        concurrency=args.dnsperf_concurrency, dnsperf=args.dnsperf, dnsperf_seconds=args.dnsperf_seconds)

    def qps(r: dict[str, Any]) -> float:
        return float(r["queries"] / r["seconds"]) if r["seconds"] else 0.0

    def answered(r: dict[str, Any]) -> str:
        return f"{sum(v for k, v in r['statuses'].items() if k in bench_dns.ANSWERED) / max(r['queries'], 1):.1%}"

    return [
        (f"DNS engine alone, q/s ({queries:,} A queries)", f"{qps(eng):,.0f}",
         f"{qps(py):,.0f} dnspython loop", times(qps(eng), qps(py)), mb(eng["rss_kb"])),
        ("DNS engine alone against dnsperf, q/s", f"{qps(eng):,.0f}", f"{qps(perf):,.0f} dnsperf",
         times(qps(eng), qps(perf)), mb(perf["rss_kb"]) + " dnsperf"),
        ("DNS engine answered share", answered(eng), answered(py) + " dnspython loop", "", mb(py["rss_kb"]) + " naive"),
    ]


def attribution_rows(state: dict[str, Any], workdir: Path, args: argparse.Namespace) -> list[Row]:
    """Range matching beside a plain pyasn loop over the same addresses (in its own process)."""
    count = args.addresses or min(1_000_000, 100 * args.sites)
    out = workdir / "attribution.json"
    bench_http.run_measured([sys.executable, "-m", bench_attribution.__name__, "--addresses", str(count),
                             "--asn-db", str(args.asn_db or state["asn_db"]), "--date", state["date"],
                             "--json", str(out)])
    r = json.loads(out.read_text())
    best = min(r["times"])
    ranges_rate, pyasn_rate = r["addresses"] / best, r["addresses"] / r["pyasn_s"]
    return [
        (f"published-range matching, addresses/s ({r['addresses']:,}, best of {len(r['times'])})",
         f"{ranges_rate:,.0f}", f"{pyasn_rate:,.0f} pyasn loop", times(ranges_rate, pyasn_rate),
         mb(r["ranges_rss_kb"])),
        ("published-range matching, s / addresses matched", f"{best:.2f} / {r['matched']:,}",
         f"{r['pyasn_s']:.2f} / {r['pyasn_matched']:,} pyasn", "", mb(r["pyasn_rss_kb"]) + " pyasn"),
    ]


def http_rows(state: dict[str, Any], db: Path, workdir: Path, args: argparse.Namespace) -> list[Row]:
    """Our download handler beside plain Scrapy on the pages of the first ``--http-sites`` sites."""
    _, names = bench_dns.names_from_lab(Path(state["state_dir"]) / "state.json")
    targets = bench_http.fetch_targets(state, db, set(names[0::2][: args.http_sites]))
    print(f"fetch: {len(targets):,} hosts with a valid certificate of {args.http_sites:,} sites", flush=True)
    rows = bench_http.fetch_rows(bench_http.compare_handlers(state, targets, workdir, args.http_concurrency))
    fig, value, base, ratio, rss = rows[0]
    return [(f"{fig} [{len(targets):,} hosts]", value, base, ratio, rss), *rows[1:]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--list", type=Path, help="real top list to draw the world from (default: Radar)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=300, help="sites in flight in the crawl")
    ap.add_argument("--dnsperf", default=bench_dns.DNSPERF)
    ap.add_argument("--dnsperf-seconds", type=float, default=5.0, help="each dnsperf run")
    ap.add_argument("--dnsperf-concurrency", type=int, default=200, help="queries in flight (dnsperf, engine)")
    ap.add_argument("--queries", type=int, help="engine queries (default: 20 a site, 20,000 to 300,000)")
    ap.add_argument("--naive-queries", type=int, help="dnspython queries (default: a tenth, 2,000 to 20,000)")
    ap.add_argument("--addresses", type=int, help="addresses to match (default: 100 a site, at most 1M)")
    ap.add_argument("--asn-db", type=Path,
                    default=bench_attribution.DATA / "ip2asn" / "pyasn" / "ipasn_20140513.dat.gz",
                    help="pyasn database of the pyasn loop (default: a real RouteViews table, as bench_attribution)")
    ap.add_argument("--http-sites", type=int, default=1000, help="sites whose pages are fetched")
    ap.add_argument("--http-concurrency", type=int, default=64)
    ap.add_argument("--no-http", action="store_true", help="skip the HTTP comparison")
    ap.add_argument("--json", type=Path, help="also write the rows here (JSON)")
    ap.add_argument("--workdir", type=Path, help="for the lab and the databases (default: a temporary one, removed)")
    args = ap.parse_args(argv)
    os.environ["CHOKEPOINTS_LOOPBACK_ONLY"] = "1"  # the crawls' hermetic mode, inherited

    from scripts.lab import api

    tmp = args.workdir or Path(tempfile.mkdtemp(prefix="bench."))
    tmp.mkdir(parents=True, exist_ok=True)
    lab_dir, db = tmp / "lab", tmp / "crawl.duckdb"
    try:
        state, lab_row = lab_up(lab_dir, args.sites, args.seed, args.list or bench_crawl.default_list(args.sites))
        print(f"lab: {state['sites']} sites at {state['resolver']} ({lab_row[1]} s)", flush=True)
        stages: list[tuple[str, Callable[[], list[Row]]]] = [("crawl", lambda: crawl_rows(lab_dir, state, db, args)),
                  ("DNS engine", lambda: dns_rows(state, tmp, args)),
                  ("attribution", lambda: attribution_rows(state, tmp, args))]
        if not args.no_http:
            stages.append(("HTTP", lambda: http_rows(state, db, tmp, args)))
        done: dict[str, list[Row]] = {}
        for name, stage in stages:
            t0 = time.perf_counter()
            done[name] = stage()
            print(f"{name}: {time.perf_counter() - t0:.1f} s", flush=True)
        # the table in the order of the stages of a crawl: the engine alone first
        rows = [lab_row, *done.pop("DNS engine"), *done.pop("crawl"), *done.pop("attribution"),
                *done.pop("HTTP", [])]
        print(f"\n{state['sites']:,} sites, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        print(bench_http.format_table(rows))
        if args.json:
            keys = ("figure", "value", "baseline", "ratio", "peak_rss")
            args.json.write_text(json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=1) + "\n")
        return 0
    finally:
        api.down(lab_dir)
        if args.workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
