"""Measure the lab's web endpoint: ``python -m scripts.lab.http_bench LAB_DIR [--seconds S]``.

Sends one request per connection (as the crawler does) from a number of concurrent asyncio
clients, to hosts of the lab's ``web.tsv`` in turn, over http and https (SNI set, certificates
verified against the lab bundle), and reports requests per second of wall time and per second
of the endpoint's own CPU time (read from ``/proc/<pid>/stat``): the second is what one core
sustains, whatever the load generator costs on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import sys
import time
from itertools import cycle
from pathlib import Path
from typing import Any

from scripts.lab.web import HostRule


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of *pid*."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _one(port: int, host: str, path: str, ctx: ssl.SSLContext | None) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=host if ctx else None)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: chokepoints-bench\r\nConnection: close\r\n\r\n"
                 .encode())
    data = await reader.read()
    writer.close()
    return int(data[9:12])


async def run(state: dict[str, Any], seconds: float, concurrency: int, scheme: str) -> dict[str, Any]:
    """Load the endpoint for *seconds*; return the counts and rates."""
    rules = [HostRule.parse(line) for line in Path(state["web"]).read_text().splitlines() if not line.startswith("#")]
    if scheme == "https":
        targets = [(r.host, "/") for r in rules if r.tls == "valid"]
        ctx: ssl.SSLContext | None = ssl.create_default_context(cafile=state["ca_bundle"])
        port = int(state["https_port"])
    else:
        targets = [(r.host, "/robots.txt" if i % 2 else "/") for i, r in enumerate(rules)]
        ctx, port = None, int(state["http_port"])
    work = cycle(targets)
    done, errors = 0, 0
    pid = int(state["pids"]["http"])
    stop = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done, errors
        while time.monotonic() < stop:
            host, path = next(work)
            try:
                await _one(port, host, path, ctx)
                done += 1
            except (OSError, ValueError):
                errors += 1

    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - t0
    return {"scheme": scheme, "requests": done, "errors": errors, "hosts": len(targets), "wall_s": round(wall, 2),
            "server_cpu_s": round(cpu, 2), "per_s_wall": round(done / wall),
            "per_cpu_s": round(done / cpu) if cpu else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("lab_dir", type=Path)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--scheme", choices=("http", "https", "both"), default="both")
    args = ap.parse_args(argv)
    state = json.loads((args.lab_dir / "state.json").read_text())
    for scheme in ("http", "https") if args.scheme == "both" else (args.scheme,):
        print(json.dumps(asyncio.run(run(state, args.seconds, args.concurrency, scheme))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
