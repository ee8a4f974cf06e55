"""Input faults: hostile lines in a top list, 10^6 duplicates, unusable list files, bad configs.

Expected: lines that are no domain are rejected one by one with a reason and counted, the
others kept (IDNs as punycode, URLs and wildcards cut to their registrable domain), every kept
site measured; a file with nothing usable, or a config with a mistake, ends in one clear line
and exit code 1. Never a traceback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from pathlib import Path

from scripts.faults.harness import Context, Row, query, scenario, snapshot_row
from scripts.faults.inputs import SKIP, HostileList, bad_configs, bad_list_files, duplicates_list, write_hostile_list


def lab_domains(ctx: Context, n: int) -> list[str]:
    """The first ``n`` domains of the lab's list (they resolve in the lab)."""
    lines = Path(ctx.lab()["list"]).read_text(encoding="utf-8").splitlines()[1 : n + 1]
    return [line.split(",")[1].strip() for line in lines]


def check_list(db: Path, hostile: HostileList) -> tuple[list[Row], dict[str, int]]:
    """Per kind of line, whether the database kept, rejected and counted it as it must."""
    snap = snapshot_row(db)
    sid = int(snap["snapshot_id"])
    entries = dict(query(db, "select rank, domain from list_entries where snapshot_id = ?", [sid]))
    rejects = {int(no): str(reason) for no, reason in query(
        db, "select line_no, reason from list_rejects where snapshot_id = ?", [sid])}
    measured = {d for (d,) in query(db, "select domain from site_outcomes where snapshot_id = ?", [sid])}
    firsts = set(hostile.entries().values())
    rows: list[Row] = []
    for kind in hostile.kinds():
        mine = [(no, line) for no, line in hostile.lines if line.kind == kind]
        good = lost = 0
        reasons: Counter[str] = Counter()
        for no, line in mine:
            if line.expect == SKIP:
                good += int(no not in entries and no not in rejects)
            elif line.expect is None:
                good += int(no in rejects and no not in entries)
                lost += int(no not in rejects)
                reasons[rejects.get(no, "not recorded").split(":")[0]] += 1
            elif no in firsts:  # the first line of a domain: kept, as that domain, and measured
                good += int(entries.get(no) == line.expect and line.expect in measured)
                lost += int(entries.get(no) != line.expect or line.expect not in measured)
            else:  # a later duplicate: not an entry of its own
                good += int(no not in entries and no not in rejects)
        kept = sum(1 for no, _ in mine if no in entries)
        outcome = f"kept {kept}, rejected {sum(1 for no, _ in mine if no in rejects)}"
        if reasons:
            outcome += " (" + "; ".join(f"{r} x{n}" if n > 1 else r for r, n in reasons.items()) + ")"
        rows.append(Row(f"list: {kind.replace('_', ' ')}", len(mine), outcome, rows_lost=lost, ok=good == len(mine)))
    totals = {"entries": len(entries), "rejected": int(snap["list_rejected"] or 0),
              "duplicates": int(snap["list_duplicates"] or 0), "measured": len(measured)}
    return rows, totals


@scenario("hostile list lines", family="input", needs=("lab",))
def hostile_list(ctx: Context) -> list[Row]:
    folder = ctx.path("hostile_list")
    hostile = write_hostile_list(folder / "hostile.csv", lab_domains(ctx, 11), seed=ctx.seed)
    db = folder / "hostile.duckdb"
    run = ctx.cli(*ctx.list_crawl_args(db, hostile.path))
    if run.returncode != 0:
        return [Row("list: hostile lines", len(hostile.lines), run.describe(), crashes=int(run.crashed), ok=False)]
    rows, totals = check_list(db, hostile)
    want = {"entries": len(hostile.entries()), "rejected": len(hostile.rejected()),
            "duplicates": hostile.duplicates(), "measured": len(hostile.entries())}
    lost = max(0, want["entries"] - totals["entries"]) + max(0, want["measured"] - totals["measured"])
    rows.append(Row("list: every line accounted for", len(hostile.lines),
                    ", ".join(f"{k} {totals[k]}/{want[k]}" for k in want) + f"; {run.describe()}",
                    rows_lost=lost, crashes=int(run.crashed), ok=totals == want))
    return rows


@scenario("10^6 duplicate lines", family="input", needs=("lab",))
def million_duplicates(ctx: Context) -> list[Row]:
    folder = ctx.path("duplicates")
    lines = max(1000, int(1_000_000 * ctx.scale))
    listed = duplicates_list(folder / "dups.csv", lab_domains(ctx, 100), lines)
    db = folder / "dups.duckdb"
    run = ctx.cli(*ctx.list_crawl_args(db, listed.path))
    if run.returncode != 0:
        return [Row("list: duplicates", lines, run.describe(), crashes=int(run.crashed), ok=False)]
    _, totals = check_list(db, listed)
    want = len(listed.entries())
    return [Row("list: duplicate lines", lines,
                f"{totals['entries']} entries, {totals['duplicates']:,} duplicates counted, {totals['measured']} "
                f"measured, in {run.seconds:.1f} s",
                rows_lost=max(0, want - totals["measured"]), crashes=int(run.crashed),
                ok=totals["entries"] == want and totals["duplicates"] == listed.duplicates())]


@scenario("unusable list files", family="input", needs=("lab",))
def unusable_lists(ctx: Context, kinds: Collection[str] = ()) -> list[Row]:
    """Every unusable list file (or only ``kinds``)."""
    folder = ctx.path("bad_lists")
    bad = [b for b in bad_list_files(folder, seed=ctx.seed) if not kinds or b.kind in kinds]
    runs = ctx.cli_many([ctx.list_crawl_args(folder / f"db{i}.duckdb", b.path) for i, b in enumerate(bad)],
                        timeout=120)
    return [Row(f"list file: {b.kind}", 1, run.describe(), crashes=int(run.crashed), ok=run.one_line_error)
            for b, run in zip(bad, runs, strict=True)]


@scenario("config errors", family="input", needs=("lab",))
def config_errors(ctx: Context, kinds: Collection[str] = ()) -> list[Row]:
    """Every config mistake (or only ``kinds``)."""
    folder = ctx.path("configs")
    host, port = ctx.resolver()
    lab_list = Path(ctx.lab()["list"])
    small = folder / "small.csv"
    small.write_text("".join(lab_list.read_text().splitlines(keepends=True)[:21]))
    bad = [b for b in bad_configs(folder, f"{host}:{port}", small, Path(ctx.lab()["asn_db"]), seed=ctx.seed)
           if not kinds or b.kind in kinds]
    runs = ctx.cli_many([("run", "--config", b.path) for b in bad], timeout=120)
    return [Row(f"config: {b.kind}", 1, run.describe(), crashes=int(run.crashed), ok=run.one_line_error)
            for b, run in zip(bad, runs, strict=True)]
