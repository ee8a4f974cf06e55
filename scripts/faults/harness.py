"""The suite's frame: scenarios register here, run in a :class:`Context`, and return :class:`Row` s.

Adding a fault is adding one entry: a function decorated with :func:`scenario` in a module of
:mod:`scripts.faults.scenarios` (listed in its ``MODULES``), taking a :class:`Context` and
returning the rows it measured::

    @scenario("http: 503 on the home page", family="http", needs=("lab",))
    def http_503(ctx: Context) -> list[Row]:
        run = ctx.cli(*ctx.crawl_args(ctx.path("http") / "c.duckdb", http=True))
        return [Row("http: 503", injected=..., outcome=..., rows_lost=..., crashes=int(run.crashed))]

Everything runs against real components: the ``chokepoints`` command line in a subprocess
(:meth:`Context.cli`), real DuckDB files in the scenario's own folder, the lab on loopback.
Every subprocess gets ``CHOKEPOINTS_LOOPBACK_ONLY=1``: nothing can leave 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
TRACEBACK = "Traceback (most recent call last)"
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit): ")


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the suite's table.

    :ivar fault: what was injected.
    :ivar injected: how many times (questions, lines, requests, runs...).
    :ivar outcome: what happened, in a few words.
    :ivar rows_lost: facts that should have been stored (or counted) and were not; must be 0.
    :ivar crashes: tracebacks, signals, hangs; must be 0.
    :ivar ok: whether the outcome is the expected one.
    """

    fault: str
    injected: int
    outcome: str
    rows_lost: int = 0
    crashes: int = 0
    ok: bool = True

    @property
    def passed(self) -> bool:
        return self.ok and self.rows_lost == 0 and self.crashes == 0


@dataclass(frozen=True, slots=True)
class Cli:
    """A finished command: its arguments, exit code, output and time."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def crashed(self) -> bool:
        """A traceback, a signal, a hang or an exit code the CLI never uses (2 is a usage error)."""
        return (self.timed_out or TRACEBACK in self.stderr or TRACEBACK in self.stdout
                or self.returncode not in (0, 1, 2, 130))

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("chokepoints: error:")]

    @property
    def one_line_error(self) -> bool:
        """Exit code 1 with exactly one ``chokepoints: error:`` line, or a usage error (exit 2,
        the option named), and no traceback."""
        if self.crashed:
            return False
        return (self.returncode == 1 and len(self.errors) == 1) or (
            self.returncode == 2 and "Invalid value" in self.stderr)

    def describe(self) -> str:
        if self.timed_out:
            return "hung (timed out)"
        if self.crashed:
            raised = [ln for ln in self.stderr.splitlines() if _RAISED.match(ln)]
            what = f"traceback ({raised[-1][:90]})" if raised else "crashed"
            error = f"; {self.errors[-1][:240]}" if self.errors else ""
            return f"{what}, exit {self.returncode}{error}"
        if self.errors:
            return f"exit {self.returncode}: {self.errors[0].removeprefix('chokepoints: error: ')[:240]}"
        if self.returncode == 2:
            usage = next((ln.strip(" │") for ln in self.stderr.splitlines() if "Invalid value" in ln), "usage error")
            return f"exit 2: {usage[:100]}"
        return f"exit {self.returncode}"


class Context:
    """What scenarios share: a work folder, the lab (started on first use), the CLI runner.

    :param work: a folder the context owns (scenarios get sub-folders with :meth:`path`).
    :param sites: sites in the lab world.
    :param lab_state: a running lab's state to use instead of starting one (tests pass theirs).
    :param timeout: ``--timeout`` of the crawls (seconds per DNS attempt).
    :param retries: ``--retries`` of the crawls.
    :param dns_rate: share of DNS questions given a fault in the DNS scenario.
    :param scale: multiplies the sizes of the big inputs (1.0: 10^6 duplicate lines).
    """

    def __init__(self, work: Path, *, sites: int = 300, seed: int = 11, lab_state: dict[str, Any] | None = None,
                 timeout: float = 1.0, retries: int = 1, dns_rate: float = 0.1, scale: float = 1.0) -> None:
        self.work = work
        self.sites = sites
        self.seed = seed
        self.timeout = timeout
        self.retries = retries
        self.dns_rate = dns_rate
        self.scale = scale
        self._lab = lab_state
        self._own_lab = False
        self._base_db: Path | None = None
        self._base_http_db: Path | None = None
        self._dns_only: list[str] | None = None
        self.env = {**os.environ, "CHOKEPOINTS_LOOPBACK_ONLY": "1", "COLUMNS": "200", "NO_COLOR": "1",
                    "CHOKEPOINTS_CACHE": str(work / "cache")}

    # -- resources ----------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        """A fresh folder for one scenario."""
        folder = self.work / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def lab(self) -> dict[str, Any]:
        """The lab's state; a lab of ``sites`` sites is started on first use."""
        if self._lab is None:
            from scripts.lab.api import up

            self._lab = up(self.work / "lab", sites=self.sites, seed=self.seed)
            self._own_lab = True
        return self._lab

    def resolver(self) -> tuple[str, int]:
        host, _, port = self.lab()["resolver"].rpartition(":")
        return host, int(port)

    def close(self) -> None:
        if self._own_lab:
            from scripts.lab.api import down

            down(self.work / "lab")
            self._own_lab = False

    # -- the command line ---------------------------------------------------------------------

    def cli(self, *args: str | Path, timeout: float = 600, cwd: Path | None = None) -> Cli:
        """Run ``python -m chokepoints ARGS`` to its end (or ``timeout``)."""
        argv = [sys.executable, "-m", "chokepoints", *map(str, args)]
        t0 = time.perf_counter()
        try:
            done = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout,
                                  env=self.env, cwd=cwd or self.work, check=False)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
            return Cli(tuple(argv[3:]), -9, out, err, time.perf_counter() - t0, timed_out=True)
        return Cli(tuple(argv[3:]), done.returncode, done.stdout, done.stderr, time.perf_counter() - t0)

    def cli_many(self, commands: Sequence[Sequence[str | Path]], *, parallel: int = 3,
                 timeout: float = 600) -> list[Cli]:
        """Run several independent commands, ``parallel`` at a time; results in order."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, parallel)) as pool:
            return list(pool.map(lambda args: self.cli(*args, timeout=timeout), commands))

    def start(self, *args: str | Path, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start ``python -m chokepoints ARGS`` in the background (see :func:`finish`), with
        ``env`` added to the suite's environment."""
        return subprocess.Popen([sys.executable, "-m", "chokepoints", *map(str, args)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace", env={**self.env, **(env or {})},
                                cwd=cwd or self.work)

    def start_audited(self, log: Path, *args: str | Path) -> subprocess.Popen[str]:
        """Start ``python -m tests.netaudit LOG ARGS`` in the background: the command line with
        every socket destination and name lookup appended to ``log`` (see :func:`finish`)."""
        path = os.pathsep.join(p for p in (str(ROOT), self.env.get("PYTHONPATH", "")) if p)
        return subprocess.Popen([sys.executable, "-m", "tests.netaudit", str(log), *map(str, args)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                                env={**self.env, "PYTHONPATH": path}, cwd=self.work)

    def dns_only(self) -> list[str]:
        """``--no-http`` when this version of ``crawl`` has an HTTP step (DNS scenarios leave it out)."""
        if self._dns_only is None:
            helped = self.cli("crawl", "--help", timeout=120)
            self._dns_only = ["--no-http"] if "--no-http" in helped.stdout else []
        return self._dns_only

    def crawl_args(self, db: Path, *, resolver: tuple[str, int] | None = None, rdap: bool = False,
                   http: bool = False, extra: Sequence[str] = ()) -> list[str]:
        """``crawl`` arguments for the lab's list through ``resolver`` (default the lab's own),
        with the lab's pyasn database, ranges and AS names (``--lab``), quiet; DNS only unless
        ``http`` (the lab's web server then answers the home pages)."""
        host, port = resolver or self.resolver()
        args = ["crawl", "--lab", "--lab-dir", self.lab()["state_dir"], "--resolver", f"{host}:{port}",
                "--db", str(db), "--no-progress", "--no-summary", "--timeout", str(self.timeout),
                "--retries", str(self.retries)]
        if not rdap:
            args.append("--no-rdap")
        return [*args, *([] if http else self.dns_only()), *extra]

    def list_crawl_args(self, db: Path, list_path: Path, *, extra: Sequence[str] = ()) -> list[str]:
        """``crawl`` arguments for any list file against the lab's resolver and pyasn database."""
        host, port = self.resolver()
        return ["crawl", "--list", str(list_path), "--resolver", f"{host}:{port}", "--asn-db", self.lab()["asn_db"],
                "--db", str(db), "--no-progress", "--no-summary", "--no-rdap", "--timeout", str(self.timeout),
                "--retries", str(self.retries), *self.dns_only(), *extra]

    def base_db(self) -> Path:
        """A clean crawl of the lab (no faults, no RDAP), made once; copy it before writing."""
        if self._base_db is None:
            path = self.path("base") / "base.duckdb"
            run = self.cli(*self.crawl_args(path))
            if run.returncode != 0:
                raise RuntimeError(f"the clean crawl failed: {run.describe()}")
            self._base_db = path
        return self._base_db


    def base_http_db(self) -> Path:
        """A clean crawl of the lab with HTTP (no faults, no RDAP), made once; copy it before writing."""
        if self._base_http_db is None:
            path = self.path("base-http") / "base.duckdb"
            run = self.cli(*self.crawl_args(path, http=True))
            if run.returncode != 0:
                raise RuntimeError(f"the clean crawl with HTTP failed: {run.describe()}")
            self._base_http_db = path
        return self._base_http_db


def finish(proc: subprocess.Popen[str], argv: Iterable[str], t0: float, timeout: float = 600) -> Cli:
    """Wait for a command started with :meth:`Context.start`."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return Cli(tuple(argv), -9, out, err, time.perf_counter() - t0, timed_out=True)
    return Cli(tuple(argv), proc.returncode, out, err, time.perf_counter() - t0)


def off_loopback(log: Path) -> tuple[int, int]:
    """``(destinations logged, of which not loopback)`` in a :meth:`Context.start_audited` log."""
    from tests.netaudit import is_loopback

    lines = [ln.split("\t", 1) for ln in log.read_text(encoding="utf-8").splitlines() if "\t" in ln] \
        if log.is_file() else []
    return len(lines), sum(1 for _, host in lines if not is_loopback(host))


def peak_rss_mb(proc: subprocess.Popen[str], interval: float = 0.1) -> Callable[[], float]:
    """Watch a running process's peak resident memory (``VmHWM``); call the result, after the
    process ended, for the last peak seen in MB (0.0 where ``/proc`` is not there)."""
    import threading

    peak = [0.0]

    def watch() -> None:
        status = Path(f"/proc/{proc.pid}/status")
        while proc.poll() is None:
            try:
                line = next((ln for ln in status.read_text().splitlines() if ln.startswith("VmHWM:")), "")
            except OSError:
                break
            if line:
                peak[0] = max(peak[0], int(line.split()[1]) / 1024)
            time.sleep(interval)

    thread = threading.Thread(target=watch, name=f"rss-{proc.pid}", daemon=True)
    thread.start()

    def result() -> float:
        thread.join(5)
        return peak[0]

    return result


def query(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on a database file (the suite's own checks)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def snapshot_row(db: Path, sid: int | None = None) -> dict[str, Any]:
    """The newest (or ``sid``) snapshot's row as a dict, ``stats`` parsed."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        where = "" if sid is None else f"where snapshot_id = {int(sid)}"
        cur = con.execute(f"select * from snapshots {where} order by snapshot_id desc limit 1")
        cols = [d[0] for d in cur.description or []]
        row = dict(zip(cols, cur.fetchone() or (), strict=False))
    finally:
        con.close()
    if isinstance(row.get("stats"), str):
        row["stats"] = json.loads(row["stats"])
    return row


ScenarioFn = Callable[..., list[Row]]  # called with the Context alone; tests may narrow it


@dataclass(frozen=True, slots=True)
class Scenario:
    """A registered fault scenario: a name, its family, what it needs, the function."""

    name: str
    family: str
    run: ScenarioFn
    needs: frozenset[str] = field(default_factory=frozenset)


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, family: str, needs: Iterable[str] = ()) -> Callable[[ScenarioFn], ScenarioFn]:
    """Register a scenario (``needs``: ``lab``, ``root`` for mounting a file system)."""

    def register(fn: ScenarioFn) -> ScenarioFn:
        if name in SCENARIOS:
            raise ValueError(f"two scenarios named {name!r}")
        SCENARIOS[name] = Scenario(name, family, fn, frozenset(needs))
        return fn

    return register


def run_scenario(entry: Scenario, ctx: Context) -> list[Row]:
    """Run one scenario; an exception in the suite's own code becomes a failed row, never a
    lost table."""
    try:
        return entry.run(ctx)
    except Exception as exc:
        return [Row(entry.name, 0, f"suite error: {type(exc).__name__}: {exc}"[:160], ok=False)]
