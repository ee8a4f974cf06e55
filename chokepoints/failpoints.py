"""Kill points for the fault-injection suite: the process SIGKILLs itself at a named point.

A kill sent from outside at a moment read off the progress lines can come too late on a small,
fast crawl (the run ends first). ``CHOKEPOINTS_KILL_AT=POINT[:N]`` instead makes the process kill
itself with SIGKILL, so that nothing of Python's shutdown runs, the first time it passes POINT
with a count of at least N:

* ``dns:N`` — in the write transaction that brings the DNS outcomes stored to N, after its rows
  are appended and before its commit;
* ``pages:N`` — the same for home-page outcomes;
* ``attribution`` — in the attribution transaction, before its commit.

Unset (the normal case) each check is one comparison with None.
"""

from __future__ import annotations

import os
import signal

ENV = "CHOKEPOINTS_KILL_AT"
POINTS = ("dns", "pages", "attribution")


def parse(spec: str | None) -> tuple[str, int] | None:
    """``POINT[:N]`` as ``(point, n)``; None when unset; ValueError when malformed."""
    if not spec:
        return None
    point, _, count = spec.partition(":")
    if point not in POINTS or (count and not count.isdigit()):
        raise ValueError(f"{ENV}={spec!r}: expected one of {', '.join(POINTS)}, optionally :N")
    return point, int(count or 0)


_TARGET = parse(os.environ.get(ENV))


def reached(point: str, count: int = 0) -> None:
    """SIGKILL this process if ``CHOKEPOINTS_KILL_AT`` names ``point`` and ``count`` reached its N."""
    if _TARGET is not None and _TARGET[0] == point and count >= _TARGET[1]:
        os.kill(os.getpid(), signal.SIGKILL)
