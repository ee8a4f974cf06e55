"""A throwaway ``redis-server`` on a free loopback port, in a temporary folder (never the system's)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_redis(tmp_dir: Path, *, attempts: int = 5) -> Iterator[str]:
    """Start ``redis-server`` on 127.0.0.1 (no persistence) for the block; yield its URL.

    Redis cannot report a port it picked itself, so a free port is chosen and the start is
    retried if another process took it first.
    """
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    for _ in range(attempts):
        port = _free_port()
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_dir), "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        if proc.poll() is None:
            try:
                yield url
            finally:
                proc.kill()
                proc.wait(timeout=10)
            return
    raise RuntimeError("could not start redis-server on a free port")
