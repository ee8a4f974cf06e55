"""Run the fault-injection suite and print its table: fault | injected | outcome | rows lost | crashes.

    python -m scripts.faults.suite                 # every scenario (starts a 300-site lab)
    python -m scripts.faults.suite --only dns      # scenarios whose name or family contains "dns"
    python -m scripts.faults.suite --list          # the registered scenarios

Exit code 1 when any row lost facts, crashed, or did not end as expected. Scenarios that need
``root`` (mounting a small tmpfs for the disk-full fault) are reported as skipped without it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from scripts.faults import scenarios
from scripts.faults.harness import SCENARIOS, Context, Row, run_scenario


def can_mount() -> str | None:
    """None when a tmpfs can be mounted here, else why not."""
    from scripts.faults.scenarios.disk import mount_blocked

    return mount_blocked()


def table(rows: list[Row], width: int = 70) -> str:
    """The rows as a plain-text table (the outcome wrapped at ``width``)."""
    head = ("fault", "injected", "outcome", "rows lost", "crashes", "")
    fault_w = max(len(head[0]), *(len(r.fault) for r in rows)) if rows else len(head[0])
    lines = [f"{head[0]:<{fault_w}}  {head[1]:>8}  {head[2]:<{width}}  {head[3]:>9}  {head[4]:>7}",
             "-" * (fault_w + width + 34)]
    for r in rows:
        wrapped = textwrap.wrap(r.outcome, width) or [""]
        mark = "" if r.passed else "  FAIL"
        lines.append(f"{r.fault:<{fault_w}}  {r.injected:>8,}  {wrapped[0]:<{width}}  {r.rows_lost:>9}  "
                     f"{r.crashes:>7}{mark}")
        lines += [f"{'':<{fault_w}}  {'':>8}  {more}" for more in wrapped[1:]]
    return "\n".join(lines)


def run(ctx: Context, only: list[str] | None = None, progress: bool = True) -> list[Row]:
    """Run the registered scenarios (those matching ``only``, by name or family) in order."""
    scenarios.load()
    blocked = can_mount()
    rows: list[Row] = []
    for entry in SCENARIOS.values():
        if only and not any(o in entry.name or o == entry.family for o in only):
            continue
        if "root" in entry.needs and blocked:
            rows.append(Row(entry.name, 0, f"skipped: {blocked}"))
            continue
        t0 = time.perf_counter()
        got = run_scenario(entry, ctx)
        rows += got
        if progress:
            bad = sum(not r.passed for r in got)
            print(f"  {entry.name}: {len(got)} rows, {bad} failing ({time.perf_counter() - t0:.1f} s)",
                  file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--only", action="append", help="run scenarios whose name contains this (or of this family)")
    ap.add_argument("--sites", type=int, default=300, help="sites in the lab world")
    ap.add_argument("--dns-rate", type=float, default=0.1, help="share of DNS questions given a fault")
    ap.add_argument("--scale", type=float, default=1.0, help="size of the big inputs (1: 10^6 duplicate lines)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = ap.parse_args(argv)
    os.environ["CHOKEPOINTS_LOOPBACK_ONLY"] = "1"
    scenarios.load()
    if args.list:
        for entry in SCENARIOS.values():
            print(f"{entry.family:<12} {entry.name}" + (f"  (needs {', '.join(sorted(entry.needs))})"
                                                         if entry.needs else ""))
        return 0
    work = Path(tempfile.mkdtemp(prefix="faults."))
    ctx = Context(work, sites=args.sites, dns_rate=args.dns_rate, scale=args.scale)
    t0 = time.perf_counter()
    try:
        rows = run(ctx, args.only)
    finally:
        ctx.close()
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(table(rows))
    failing = [r for r in rows if not r.passed]
    print(f"\n{len(rows)} rows in {time.perf_counter() - t0:.0f} s: {len(rows) - len(failing)} passed, "
          f"{len(failing)} failing; rows lost {sum(r.rows_lost for r in rows)}, crashes {sum(r.crashes for r in rows)}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
