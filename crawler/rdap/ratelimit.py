"""Token buckets per server, reservation style, so that a deferral (429) holds every caller.

A bucket is a GCRA: each request reserves the next free slot and then sleeps until it, so the
clock and sleep can be swapped for test doubles without busy loops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class TokenBucket:
    """``rate`` requests/s, up to ``burst`` back to back; thread-safe."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1.0) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._tat = clock()  # theoretical arrival time of the next request
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this request's slot; return the seconds waited."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            start = max(now, tat - self.tolerance)
            self._tat = tat + self.interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def defer(self, seconds: float) -> None:
        """Let no request through for ``seconds`` from now (a server's Retry-After)."""
        with self._lock:
            self._tat = max(self._tat, self._clock() + seconds + self.tolerance)
