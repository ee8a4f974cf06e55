"""Asyncio servers run on an event loop in a thread of their own, for the length of a block."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence


@contextlib.contextmanager
def serving(starts: Sequence[Callable[[], Awaitable[object]]], stops: Sequence[Callable[[], Awaitable[object]]],
            *, name: str, timeout: float = 10.0, quiet: bool = False) -> Iterator[asyncio.AbstractEventLoop]:
    """Run ``starts`` (in order) on a new loop in a thread, serve until the block ends, then run
    ``stops`` (in order). A start that raises is raised here, in the caller's thread.

    :param quiet: drop the loop's unhandled-exception reports (clients that hang up on purpose).
    """
    loop = asyncio.new_event_loop()
    if quiet:
        loop.set_exception_handler(lambda _loop, _context: None)
    ready = threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            for start in starts:
                loop.run_until_complete(start())
        except BaseException as exc:  # handed to the caller
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        for stop in stops:
            loop.run_until_complete(stop())
        loop.close()

    thread = threading.Thread(target=serve, name=name, daemon=True)
    thread.start()
    ready.wait(timeout)
    if failure:
        raise failure[0]
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
