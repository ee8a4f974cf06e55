"""Crash faults: SIGKILL at chosen points of a lab crawl with HTTP, then ``crawl --resume``.

The crawl is slowed to make partial state (``--concurrency 5 --http-concurrency 3
--write-batch 20``) and killed at seeded random points: early in its DNS work, in the middle of
it, once DNS is done with home pages in flight, during the attribution after the crawl, and
while a ``--resume`` of an earlier kill is itself in flight. Kills in DNS and attribution land
inside a write transaction, after its rows are appended and before its commit: the process
kills itself there (:mod:`chokepoints.failpoints`, ``CHOKEPOINTS_KILL_AT``), since a signal
aimed from outside by the progress lines came too late on a fast run. Kills among home pages
are a SIGKILL sent from outside at a random moment, wherever the crawl is. After each kill the
database must open (read-only) with the snapshot still ``running``; resumed until complete,
every site has exactly one outcome in ``site_outcomes`` and ``http_outcomes``, no row is stored
twice, and the dependencies are those of an uninterrupted crawl.
"""

from __future__ import annotations

import random
import re
import signal
import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from chokepoints import failpoints
from scripts.faults.harness import TRACEBACK, Context, Row, query, scenario

#: the slowed crawl: small write batches (partial state on disk), few sites and pages in flight
SLOW = ("--concurrency", "5", "--http-concurrency", "3", "--write-batch", "20")
#: the tables whose rows a resume must not write twice, with their natural keys
KEYS = (("dns_answers", "domain, qname, qtype, position"), ("http_hops", "domain, hop"),
        ("host_answers", "host, qname, qtype, position"), ("page_resources", "domain, host, tag"),
        ("tls_certificates", "domain, hop"), ("http_headers", "domain, hop, position"))
_PROGRESS = re.compile(r"^progress: (\d+)/(\d+) sites(?:.*; pages (\d+)/(\d+))?")


MISSED = ": the kill point was missed"
MISSED_RETRIES = 2


@dataclass(frozen=True, slots=True)
class KillPoint:
    """Where to kill: a phase (``dns``, ``pages``, ``attribution``) and the share of its progress
    (drawn between ``low`` and ``high``); ``in_resume``: kill first at mid-DNS, then the resume."""

    name: str
    phase: str
    low: float = 0.0
    high: float = 0.0
    in_resume: bool = False


POINTS = (
    KillPoint("early DNS", "dns"),
    KillPoint("mid DNS", "dns", 0.35, 0.65),
    KillPoint("DNS done, pages in flight", "pages", 0.2, 0.7),
    KillPoint("attribution after the crawl", "attribution"),
    KillPoint("a --resume in flight", "pages", 0.2, 0.6, in_resume=True),
)


@dataclass(frozen=True, slots=True)
class Progress:
    sites: int
    total: int
    pages: int
    pages_total: int


@dataclass(frozen=True, slots=True)
class Killed:
    """A run that was (or was meant to be) killed: the last progress seen, its stderr."""

    killed: bool
    last: Progress | None
    stderr: str
    seconds: float
    inside: str | None = None
    """The phase a kill from inside (a kill point) landed in; None for a kill from outside."""

    @property
    def traceback(self) -> bool:
        return TRACEBACK in self.stderr

    @property
    def finished_first(self) -> bool:
        """The run printed its snapshot line before the kill: the point was missed."""
        return any(line.startswith("snapshot ") for line in self.stderr.splitlines())


def parse_progress(line: str) -> Progress | None:
    m = _PROGRESS.match(line.strip())
    if m is None:
        return None
    sites, total, pages, pages_total = (int(g) if g else 0 for g in m.groups())
    return Progress(sites, total, pages, pages_total)


def _reached(p: Progress, phase: str, share: float) -> bool:
    if phase == "dns":
        return p.sites >= share * p.total
    dns_done = p.sites == p.total and p.total > 0
    if phase == "pages":
        return dns_done and p.pages >= share * p.pages_total
    return dns_done and p.pages_total > 0 and p.pages == p.pages_total  # attribution follows


def kill_at(ctx: Context, argv: Sequence[str], phase: str, share: float, delay: float) -> Killed:
    """Start ``argv`` with progress lines; SIGKILL it ``delay`` seconds after its progress reaches
    ``share`` of ``phase`` (it may end first: :attr:`Killed.killed` is then False)."""
    t0 = time.perf_counter()
    proc = ctx.start(*argv, "--progress", "--log-interval", "0.1")
    assert proc.stderr is not None
    seen: list[str] = []
    last: Progress | None = None
    for line in proc.stderr:
        seen.append(line)
        p = parse_progress(line)
        if p is not None:
            last = p
            if _reached(p, phase, share):
                time.sleep(delay)
                break
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    _, rest = proc.communicate(timeout=60)
    return Killed(killed, last, "".join(seen) + (rest or ""), time.perf_counter() - t0)


def stored(db: Path) -> tuple[str, int, int, int]:
    """``(snapshot status, sites listed, DNS outcomes, page outcomes)``, read-only (raises when
    the file does not open)."""
    (status, entries, dns, pages), = query(
        db, "select (select status from snapshots order by snapshot_id desc limit 1),"
            " (select count(*) from list_entries), (select count(distinct domain) from site_outcomes),"
            " (select count(distinct domain) from http_outcomes)")
    return str(status), int(entries), int(dns), int(pages)


def landed(db: Path, run: Killed) -> tuple[bool, str]:
    """After a kill: whether the database opens read-only with the snapshot ``running``, and
    where the kill landed (the phase aimed at from inside, else the run's last progress line)."""
    p = run.last
    seen = "no progress line yet" if p is None else (
        f"progress {p.sites}/{p.total} sites" + (f", {p.pages}/{p.pages_total} pages" if p.pages_total else ""))
    try:
        status, entries, dns, pages = stored(db)
    except Exception as exc:  # the point of the check: any failure to open is a finding
        return False, f"{seen}; database does not open read-only: {type(exc).__name__}: {exc}"[:200]
    if run.inside is not None:
        at = run.inside
    elif p is not None:  # progress counts results handed to the writer, a batch or two ahead of the file
        at = "DNS" if p.sites < p.total else "home pages" if p.pages < p.pages_total else "attribution"
    else:
        at = "DNS" if dns < entries else "home pages" if pages < entries else "attribution"
    return status == "running", f"{at} ({seen}); stored {dns}/{entries} DNS, {pages}/{entries} page outcomes, {status}"


def check_complete(db: Path, base: Path) -> tuple[bool, int, str]:
    """The resumed snapshot against an uninterrupted crawl: ``(ok, rows lost, note)``."""
    status, entries, dns, pages = stored(db)
    (rows_dns, rows_pages, snaps), = query(db, "select (select count(*) from site_outcomes), (select count(*)"
                                               " from http_outcomes), (select count(*) from snapshots)")
    dupes = {table: query(db, f"select count(*) from (select {key} from {table} group by all"
                              " having count(*) > 1)")[0][0] for table, key in KEYS}
    deps_sql = "select domain, layer, provider from dependencies"
    resumed = set(query(db, deps_sql))
    whole = set(query(base, deps_sql))
    doubled = sum(dupes.values()) + (rows_dns - dns) + (rows_pages - pages)
    lost = (entries - dns) + (entries - pages) + len(whole - resumed)
    ok = status == "complete" and snaps == 1 and doubled == 0 and lost == 0 and resumed == whole
    worst = ", ".join(f"{t} {n}" for t, n in dupes.items() if n) or "none"
    note = (f"{status}: {dns}/{entries} DNS, {pages}/{entries} page outcomes ({rows_dns}, {rows_pages} rows);"
            f" rows stored twice: {worst}; dependencies {len(resumed)} vs {len(whole)} uninterrupted"
            f" ({len(whole - resumed)} missing, {len(resumed - whole)} extra)")
    if resumed != whole:  # say where the difference lies: layers, and the outcomes behind them
        layers = Counter(layer for _, layer, _ in whole ^ resumed)
        note += f" by layer {dict(layers)}; {_statuses(db)} vs uninterrupted {_statuses(base)}"
    return ok, lost, note


def _statuses(db: Path) -> str:
    """The DNS and page outcome statuses of a database other than NOERROR and OK, counted."""
    rows = query(db, "select 'dns ' || status, count(*) from site_outcomes where status <> 'NOERROR' group by 1"
                     " union all select 'page ' || status, count(*) from http_outcomes where status <> 'OK'"
                     " group by 1 order by 1")
    return ", ".join(f"{k} {n}" for k, n in rows)


def _raised(stderr: str) -> str:
    """The last exception line of a traceback in ``stderr``."""
    lines = [ln.strip() for ln in stderr.splitlines() if re.match(r"^\s*[A-Za-z_][\w.]*(Error|Exception): ", ln)]
    return (lines[-1] if lines else "no exception line")[:160]


def kill_inside(ctx: Context, argv: Sequence[str], spec: str) -> Killed:
    """Run ``argv`` with ``CHOKEPOINTS_KILL_AT=spec``: it SIGKILLs itself at that point (it may
    end first if the point is never reached: :attr:`Killed.killed` is then False)."""
    t0 = time.perf_counter()
    proc = ctx.start(*argv, "--progress", "--log-interval", "0.1", env={failpoints.ENV: spec})
    _, err = proc.communicate(timeout=300)
    progress = [p for p in map(parse_progress, err.splitlines()) if p is not None]
    return Killed(proc.returncode == -signal.SIGKILL, progress[-1] if progress else None, err,
                  time.perf_counter() - t0, inside="DNS" if spec.startswith("dns") else spec.split(":")[0])


def aim(ctx: Context, argv: Sequence[str], phase: str, share: float, rng: random.Random) -> Killed:
    """Kill a run at ``share`` of ``phase``: from inside at a DNS write or in attribution, from
    outside (a random moment once the progress shows ``share``) among the home pages."""
    if phase == "dns":
        return kill_inside(ctx, argv, f"dns:{max(1, round(share * ctx.lab()['sites']))}")
    if phase == "attribution":
        return kill_inside(ctx, argv, "attribution")
    return kill_at(ctx, argv, phase, share, rng.uniform(0.0, 0.1))


def kill_and_resume(ctx: Context, point: KillPoint, rng: random.Random, folder: Path) -> Row:
    """One kill point: kill (twice for ``in_resume``), check the file, resume, check the result."""
    db = folder / f"{re.sub(r'[^a-z0-9]+', '-', point.name.lower()).strip('-')}.duckdb"
    argv = [*ctx.crawl_args(db, http=True), *SLOW]
    kills: list[tuple[bool, str]] = []
    runs: list[Killed] = []
    plan = [("dns", rng.uniform(0.35, 0.65), False)] if point.in_resume else []
    plan.append((point.phase, rng.uniform(point.low, point.high), point.in_resume))
    for phase, share, resume in plan:
        run = aim(ctx, [*argv, "--resume"] if resume else argv, phase, share, rng)
        runs.append(run)
        ended = (run.stderr.strip().splitlines() or ["no output"])[-1][:120]
        kills.append(landed(db, run) if run.killed else (False, f"nothing: the run ended first ({ended})"))
        if not kills[-1][0]:
            break
    crashes = sum(r.traceback for r in runs)
    where = "; then the resume ".join(f"killed in {what}" for _, what in kills)
    raised = [_raised(r.stderr) for r in runs if r.traceback]
    if raised:
        where += f" (traceback before the kill: {raised[0]})"
    if not all(ok for ok, _ in kills) or any(r.finished_first for r in runs):
        missed = any(r.finished_first or not r.killed for r in runs) or ", complete" in where
        where += MISSED if missed else ""
        return Row(f"crash: SIGKILL, {point.name}", len(runs), where, crashes=crashes, ok=False)
    final = ctx.cli(*argv, "--resume", "--no-progress", timeout=300)
    if final.returncode != 0:
        return Row(f"crash: SIGKILL, {point.name}", len(runs), f"{where}; resume: {final.describe()}",
                   crashes=crashes + int(final.crashed), ok=False)
    ok, lost, note = check_complete(db, ctx.base_http_db())
    if final.crashed:
        note += f" (traceback in the resume: {_raised(final.stderr)})"
    return Row(f"crash: SIGKILL, {point.name}", len(runs),
               f"{where}; opens read-only; resumed in {final.seconds:.0f} s: {note}",
               rows_lost=lost, crashes=crashes + int(final.crashed), ok=ok)


@scenario("SIGKILL and resume", family="crashes", needs=("lab",))
def sigkill_and_resume(ctx: Context, only: Collection[str] = ()) -> list[Row]:
    """Every kill point (or those named in ``only``), each on a fresh database, seeded."""
    folder = ctx.path("crashes")
    ctx.base_http_db()
    rng = random.Random(ctx.seed)
    rows = []
    for point in POINTS:
        point_rng = random.Random(rng.random())  # the same draws for a point whichever others run
        if only and point.name not in only:
            continue
        # A kill aimed by the progress lines can come too late on a fast run (the run ended
        # first): that says nothing about the crawl, so aim again on a fresh database.
        for attempt in range(MISSED_RETRIES + 1):
            where = folder / f"try{attempt}"
            where.mkdir(parents=True, exist_ok=True)
            row = kill_and_resume(ctx, point, point_rng, where)
            if not row.outcome.endswith(MISSED):
                break
        rows.append(row)
    return rows
