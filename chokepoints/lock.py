"""One writer per database: an exclusive, non-blocking ``fcntl.flock`` on ``<db>.lock``.

``chokepoints run`` and ``chokepoints crawl`` hold it while they write, so that a scheduled run
that starts while the previous one is still going refuses at once instead of queueing or
failing half-way on DuckDB's own file lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chokepoints.errors import UserError


class LockHeld(UserError):
    """Another chokepoints run holds the database's lock."""


def lock_path(db_path: Path) -> Path:
    """The lock file of a database: ``<db>.lock`` beside it."""
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def hold(db_path: Path) -> Iterator[Path]:
    """Hold the database's lock for the ``with`` block; raise :class:`LockHeld` if taken.

    :param db_path: the DuckDB file (an in-memory database needs no lock).
    :returns: the lock file's path.
    """
    if str(db_path) == ":memory:":
        yield db_path
        return
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"another chokepoints run holds {path}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
