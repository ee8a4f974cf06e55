"""Run a crawl as a child process and sample its memory against its progress.

A crawl's memory is flat when its RSS does not grow with the sites written, so each RSS sample
is paired with the number of sites done at that moment, read from the crawl's own progress lines
(``crawl --log-interval 1`` with stderr sent to a file). :func:`by_progress` then gives the RSS of
each quarter of the sites written, and separately that of the stages after the crawl step (origin
lookups, RDAP, attribution), which hold a snapshot's distinct addresses and are bounded by
``--memory-limit`` instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_PROGRESS = re.compile(rb"progress: (\d+)/(\d+) sites")


def rss_kb(pid: int, field: str = "VmRSS") -> int | None:
    """A process's resident set (KiB) from /proc, or another of its memory lines (``VmHWM``: its
    own peak); None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def hwm_kb(pid: int) -> int | None:
    """A process's own peak RSS in KiB (``VmHWM``); None once it is gone."""
    return rss_kb(pid, "VmHWM")


def last_progress(log: Path, tail: int = 4096) -> tuple[int, int] | None:
    """``(done, total)`` from the last progress line in the end of ``log``, if any."""
    try:
        with log.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - tail))
            found = _PROGRESS.findall(f.read())
    except OSError:
        return None
    return (int(found[-1][0]), int(found[-1][1])) if found else None


@dataclass
class Sampled:
    """What :func:`run_sampled` saw: ``samples`` are ``(seconds, RSS KiB, sites done or -1)``."""

    code: int
    wall: float
    peak_kb: int
    cpu: float
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    total: int = 0


def run_sampled(argv: list[str], log: Path, env: dict[str, str] | None = None, every: float = 0.5,
                cwd: Path | None = None) -> Sampled:
    """Run ``argv`` with stdout and stderr in ``log``; wall time, peak RSS (``wait4``), CPU
    seconds and RSS samples paired with the progress the log shows."""
    t0 = time.perf_counter()
    total = 0
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        samples: list[tuple[float, int, int]] = []
        stop = threading.Event()

        def sample() -> None:
            nonlocal total
            while not stop.wait(every):
                value = rss_kb(proc.pid)
                if value is None:
                    return
                progress = last_progress(log)
                if progress is not None:
                    total = progress[1]
                samples.append((time.perf_counter() - t0, value, progress[0] if progress else -1))

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        _, status, usage = os.wait4(proc.pid, 0)
        stop.set()
        thread.join()
    return Sampled(os.waitstatus_to_exitcode(status), time.perf_counter() - t0, usage.ru_maxrss,
                   usage.ru_utime + usage.ru_stime, samples, total)


def by_progress(run: Sampled) -> tuple[list[tuple[float, float] | None], tuple[float, float] | None]:
    """Mean and max RSS (MB) while each quarter of the sites was written, and after the crawl
    step (the samples once every site is done). A quarter no sample fell in is None."""
    quarters: list[list[int]] = [[], [], [], []]
    after: list[int] = []
    for _, value, done in run.samples:
        if done < 0 or not run.total:
            continue
        if done >= run.total:
            after.append(value)
        else:
            quarters[min(3, done * 4 // run.total)].append(value)

    def stat(part: list[int]) -> tuple[float, float] | None:
        return (sum(part) / len(part) / 1024, max(part) / 1024) if part else None

    return [stat(q) for q in quarters], stat(after)


def describe(run: Sampled) -> str:
    """One line: RSS per quarter of the sites written and after the crawl step (mean/max MB)."""
    quarters, after = by_progress(run)
    parts = ", ".join("-" if q is None else f"{q[0]:.0f}/{q[1]:.0f}" for q in quarters)
    tail = "-" if after is None else f"{after[0]:.0f}/{after[1]:.0f}"
    return (f"RSS mean/max MB while each quarter of the sites was written: {parts}; "
            f"after the crawl step (origins, attribution): {tail}; peak {run.peak_kb / 1024:.0f} MB")
