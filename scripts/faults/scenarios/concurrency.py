"""Concurrency: other commands while a crawl writes, and a second crawl on the same database.

The crawl is held in the middle of its DNS work (the fault proxy keeps its questions until the
checks are done; the crawl's timeout outlasts the hold). Meanwhile, all at once: a second crawl
and the read-only commands on the same database (each must refuse in one clear line: one
writer per file, readers use a copy or an export, per the design), and ``report``/``query`` on
a copy and on a Parquet export (must work). Released, the crawl must complete with every site
accounted for.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Collection
from pathlib import Path

from scripts.faults.dns_proxy import FaultPlan, running_proxy
from scripts.faults.harness import Cli, Context, Row, finish, query, scenario, snapshot_row


@scenario("concurrent runs", family="concurrency", needs=("lab",))
def concurrent_runs(ctx: Context, only: Collection[str] = ()) -> list[Row]:
    """Every check (or only those named in ``only``) while one crawl is held mid-way."""
    folder = ctx.path("concurrency")
    copy = folder / "copy.duckdb"
    shutil.copy(ctx.base_db(), copy)
    export = folder / "export"
    made = ctx.cli("export", "--db", copy, "--out", export)
    if made.returncode:
        return [Row("concurrency: export a copy", 1, made.describe(), crashes=int(made.crashed), ok=False)]
    db = folder / "live.duckdb"
    count = "select count(*) as n from snapshots"
    checks: list[tuple[str, tuple[str | Path, ...], bool]] = [  # (what, args, must refuse)
        ("second crawl, same database", tuple(ctx.crawl_args(db)), True),
        ("query, same database", ("query", count, "--db", db), True),
        ("report, same database", ("report", "--db", db, "--format", "json"), True),
        ("snapshots, same database", ("snapshots", "--db", db), True),
        ("export, same database", ("export", "--db", db, "--out", folder / "live-export"), True),
        ("ingest into the same database", ("ingest", export, "--db", db), True),
        ("report on a copy", ("report", "--db", copy, "--format", "json"), False),
        ("query on a copy", ("query", count, "--db", copy, "--format", "json"), False),
        ("report on an export", ("report", "--db", export, "--format", "json"), False),
        ("query on an export", ("query", count, "--db", export, "--format", "json"), False),
    ]
    checks = [c for c in checks if not only or c[0] in only]
    with running_proxy(ctx.resolver(), FaultPlan()) as proxy:
        proxy.hold()
        t0 = time.perf_counter()
        argv = [*ctx.crawl_args(db, resolver=proxy.address), "--timeout", "60"]
        crawl = ctx.start(*argv)
        while not proxy.holding and crawl.poll() is None and time.perf_counter() - t0 < 60:
            time.sleep(0.05)  # the crawl holds the lock and the file once it asks DNS
        runs = ctx.cli_many([args for _, args, _ in checks], parallel=4, timeout=120)
        running = crawl.poll() is None
        proxy.release()
        result = finish(crawl, argv, t0, timeout=300)
    done = [(what, refuse, run) for (what, _, refuse), run in zip(checks, runs, strict=True)]
    rows = [_check(what, refuse, run, running) for what, refuse, run in done]
    snap = snapshot_row(db) if db.exists() and result.returncode == 0 else {}
    entries, outcomes = (query(db, "select (select count(*) from list_entries), (select count(distinct domain)"
                                   " from site_outcomes)")[0] if snap else (0, 0))
    rows.append(Row("concurrency: the crawl itself", 1,
                    f"{result.describe()} in {result.seconds:.0f} s; snapshot {snap.get('status', '?')}, "
                    f"{outcomes}/{entries} sites", rows_lost=entries - outcomes, crashes=int(result.crashed),
                    ok=result.returncode == 0 and snap.get("status") == "complete" and running))
    return rows


def _check(what: str, refuse: bool, run: Cli, running: bool) -> Row:
    ok = run.one_line_error if refuse else run.returncode == 0 and _json_ok(run.stdout)
    note = "" if running else " (but the crawl had already ended)"
    return Row(f"concurrency: {what}", 1, f"{run.describe()}{note}", crashes=int(run.crashed), ok=ok and running)


def _json_ok(text: str) -> bool:
    try:
        json.loads(text.strip().splitlines()[0] if text.strip().startswith("{\"n\"") else text)
    except (ValueError, IndexError):
        return False
    return True
