"""Benchmark address attribution by published ranges beside a plain pyasn lookup loop.

Loads every range feed under ``../shared/data/provider_ranges`` into a temporary DuckDB file,
picks the versions nearest one date (all feeds: 100k+ prefixes), draws N distinct addresses
(most inside the chosen ranges, the rest random public IPv4 / global-unicast IPv6), stores them
as a snapshot's ``ip_origins`` and times :func:`crawler.ranges.match.match_addresses` on them
(best of ``--repeat``), then, in the same run, a Python loop of ``pyasn.lookup`` over the same
addresses with a database built from ``ip2asn/pyasn/ipasn_20140513.dat.gz``. Prints addresses/s
for each and the ratio. Target: 1,000,000 addresses matched in 5 s or less.

    python3 -m scripts.bench_attribution --addresses 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TARGET_SECONDS_PER_MILLION = 5.0


def draw_addresses(con: Any, feed_ids: list[int], n: int, *, inside: float, v6: float,
                   seed: int) -> list[tuple[int, int]]:
    """``n`` distinct (family, number) pairs: a share ``inside`` the ranges, a share ``v6`` IPv6."""
    rnd = random.Random(seed)
    rows = con.execute(
        "select family, start_num::varchar, end_num::varchar from ip_ranges where list_contains(?, feed_id)",
        [feed_ids],
    ).fetchall()
    by_family = {f: [(int(s), int(e)) for fam, s, e in rows if fam == f] for f in (4, 6)}
    want = {(4, True): int(n * inside * (1 - v6)), (6, True): int(n * inside * v6),
            (6, False): int(n * (1 - inside) * v6)}
    want[(4, False)] = n - sum(want.values())
    out: set[tuple[int, int]] = set()
    for (family, in_ranges), count in want.items():
        goal = len(out) + count
        while len(out) < goal:
            if in_ranges and by_family[family]:
                start, end = by_family[family][rnd.randrange(len(by_family[family]))]
                out.add((family, start + rnd.randrange(min(end - start + 1, 1 << 64))))
            elif family == 4:
                num = rnd.randrange(1 << 24, 224 << 24)
                if ipaddress.IPv4Address(num).is_global:
                    out.add((4, num))
            else:
                out.add((6, (1 << 125) + rnd.randrange(1 << 125)))     # 2000::/3
    return list(out)


def as_text(family: int, num: int) -> str:
    if family == 4:
        return socket.inet_ntoa(num.to_bytes(4, "big"))
    return ipaddress.IPv6Address(num).compressed


def bench_ranges(con: Any, feed_ids: list[int], repeat: int) -> tuple[list[float], int]:
    from crawler.ranges.match import match_addresses

    times, matched = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        matched = match_addresses(con, 1, feed_ids)
        times.append(time.perf_counter() - t0)
    return times, matched


def bench_pyasn(asn_db: Path, ips: list[str]) -> tuple[float, float, int]:
    import pyasn

    t0 = time.perf_counter()
    lookup = pyasn.pyasn(str(asn_db)).lookup
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    matched = 0
    for ip in ips:
        if lookup(ip)[0] is not None:
            matched += 1
    return build, time.perf_counter() - t0, matched


def peak_kb(reset: bool = False) -> int:
    """This process's peak RSS (KiB, ``VmHWM``); with ``reset``, start a new peak from now first
    (``/proc/self/clear_refs``; where that is refused, the peak stays the process's own)."""
    if reset:
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
    from scripts.rss import hwm_kb

    return hwm_kb(os.getpid()) or 0


def measure(addresses: int, *, ranges: Path, asn_db: Path, when: date, inside: float = 0.6, v6: float = 0.1,
            repeat: int = 3, seed: int = 1, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Range matching of ``addresses`` drawn addresses (best of ``repeat``), then a pyasn lookup loop
    over the same addresses, in this process; ``say`` tells what was loaded and drawn."""
    from chokepoints import db
    from crawler.ranges.match import select_versions
    from crawler.ranges.store import load_folder

    with tempfile.TemporaryDirectory(prefix="bench-attribution-") as tmp:
        con = db.connect(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        loads = load_folder(con, ranges)
        say(f"loaded {sum(r.prefixes for r in loads):,} range rows from {len(loads)} versions "
            f"in {time.perf_counter() - t0:.1f} s")
        feed_ids = select_versions(con, when)
        n_rows, n_prefixes = con.execute(
            "select count(*), count(distinct (family, start_num, prefix_len)) from ip_ranges"
            " where list_contains(?, feed_id)", [feed_ids]).fetchall()[0]
        say(f"{when}: {len(feed_ids)} feed versions, {n_rows:,} rows, {n_prefixes:,} distinct prefixes")
        addrs = draw_addresses(con, feed_ids, addresses, inside=inside, v6=v6, seed=seed)
        ips = [as_text(f, n) for f, n in addrs]
        db.append(con, "ip_origins", {
            "snapshot_id": [1] * len(addrs), "ip": ips,
            "family": [f for f, _ in addrs], "ip_num": [str(n) for _, n in addrs],
        })
        say(f"{len(addrs):,} distinct addresses ({sum(1 for f, _ in addrs if f == 6):,} IPv6)")
        del addrs
        peak_kb(reset=True)
        times, matched = bench_ranges(con, feed_ids, repeat)
        con.close()
    ranges_kb = peak_kb()
    peak_kb(reset=True)
    build, pyasn_s, pyasn_matched = bench_pyasn(asn_db, ips)
    return {"addresses": len(ips), "times": times, "matched": matched, "ranges_rss_kb": ranges_kb,
            "pyasn_build": build, "pyasn_s": pyasn_s, "pyasn_matched": pyasn_matched, "pyasn_rss_kb": peak_kb()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--addresses", type=int, default=1_000_000)
    ap.add_argument("--date", type=date.fromisoformat, default=date(2025, 4, 12),
                    help="match against the version of every feed nearest this date")
    ap.add_argument("--ranges", type=Path, default=DATA / "provider_ranges")
    ap.add_argument("--asn-db", type=Path, default=DATA / "ip2asn" / "pyasn" / "ipasn_20140513.dat.gz")
    ap.add_argument("--inside", type=float, default=0.6, help="share of addresses drawn inside the ranges")
    ap.add_argument("--v6", type=float, default=0.1, help="share of IPv6 addresses")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the figures here (JSON)")
    args = ap.parse_args(argv)
    for need in (args.ranges, args.asn_db):
        if not need.exists():
            print(f"bench_attribution: {need} not found", file=sys.stderr)
            return 1

    r = measure(args.addresses, ranges=args.ranges, asn_db=args.asn_db, when=args.date, inside=args.inside,
                v6=args.v6, repeat=args.repeat, seed=args.seed)
    if args.json:
        args.json.write_text(json.dumps(r))
    n, times, best = r["addresses"], r["times"], min(r["times"])
    ranges_rate, pyasn_rate = n / best, n / r["pyasn_s"]
    print()
    print(f"{'method':<34}{'seconds':>9}{'addresses/s':>14}{'matched':>11}")
    print(f"{'ranges: match_addresses (best)':<34}{best:>9.2f}{ranges_rate:>14,.0f}{r['matched']:>11,}")
    print(f"{'ranges: median of ' + str(len(times)):<34}{statistics.median(times):>9.2f}"
          f"{n / statistics.median(times):>14,.0f}")
    print(f"{'pyasn: lookup loop':<34}{r['pyasn_s']:>9.2f}{pyasn_rate:>14,.0f}{r['pyasn_matched']:>11,}")
    print(f"(pyasn database built in {r['pyasn_build']:.2f} s, not counted)")
    print(f"ratio ranges/pyasn: {ranges_rate / pyasn_rate:.2f}x")
    per_million = best * 1_000_000 / n
    verdict = "ok" if per_million <= TARGET_SECONDS_PER_MILLION else "SLOWER than target"
    print(f"target {TARGET_SECONDS_PER_MILLION:.0f} s per 1M addresses: {per_million:.2f} s ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
