"""Benchmark the DNS engine against a naive dnspython loop and dnsperf, on the same server.

Prints one table: queries per second, share answered (NOERROR/NXDOMAIN/NODATA) and peak RSS of
each client. Each client runs in a process of its own, so that its peak RSS is its own.

Targets (one of):
  --resolver HOST:PORT --names FILE   a running resolver and a file of names, one a line
  --lab-state .lab/state.json         the lab: {"resolver": "127.0.0.1:PORT", "list": "x.csv"}
                                      (csv ``rank,domain``: names are domain and www.domain)
  --spawn-knot N                      start knotd on loopback with a flat root zone of N names
                                      ``dN.example. A 192.0.2.x`` (stopped at the end)

Example:
  .venv/bin/python scripts/bench_dns.py --spawn-knot 100000 --queries 200000
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import itertools
import json
import logging
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ANSWERED = {"NOERROR", "NXDOMAIN", "NODATA"}
DNSPERF = shutil.which("dnsperf") or "/usr/bin/dnsperf"


# -- targets -----------------------------------------------------------------------------------


def names_from_lab(state_file: Path) -> tuple[str, list[str]]:
    """The resolver and the names (domain, www.domain) of a lab state file."""
    state = json.loads(state_file.read_text())
    list_path = Path(state["list"])
    if not list_path.is_absolute() and not list_path.exists():  # relative to the state file
        list_path = state_file.parent / list_path
    names: list[str] = []
    with list_path.open(newline="") as handle:
        for row in csv.reader(handle):
            if len(row) >= 2 and row[1] and not row[0].startswith("#") and row[0] != "rank":
                domain = row[1].strip().lower().rstrip(".")
                names += [domain, f"www.{domain}"]
    return str(state["resolver"]), names


def spawn_knot(count: int, workdir: Path) -> tuple[subprocess.Popen[bytes], str, list[str]]:
    """Start knotd on a free loopback port with a flat root zone of ``count`` names."""
    knotd = shutil.which("knotd") or "/usr/sbin/knotd"
    names = [f"d{i}.example" for i in range(count)]
    zone = ["$TTL 3600", ". SOA ns.root. host.root. 1 7200 900 1209600 300", ". NS ns.root."]
    zone += ["ns.root. A 127.0.0.1"] + [f"{n}. A 192.0.2.{i % 256}" for i, n in enumerate(names)]
    (workdir / "root.zone").write_text("\n".join(zone) + "\n")
    (workdir / "db").mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # a free port for UDP
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (workdir / "knot.conf").write_text(
        f"server:\n  listen: 127.0.0.1@{port}\n  rundir: {workdir}\n"
        f"database:\n  storage: {workdir}/db\n"
        f"template:\n  - id: default\n    storage: {workdir}\n"
        "zone:\n  - domain: .\n    file: root.zone\n"
        "log:\n  - target: stderr\n    any: error\n"
    )
    process = subprocess.Popen([knotd, "-c", str(workdir / "knot.conf")])
    wait_for_server("127.0.0.1", port, names[0])
    return process, f"127.0.0.1:{port}", names


def wait_for_server(host: str, port: int, name: str, seconds: float = 30.0) -> None:
    """Poll with a hand-built query until the server answers (zone loading takes a moment)."""
    from crawler.dns.wire import build_query

    deadline = time.monotonic() + seconds
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            s.sendto(build_query(1, name, "A"), (host, port))
            try:
                if s.recv(4096)[3] & 0xF == 0:
                    return
            except (TimeoutError, ConnectionRefusedError):
                pass
            time.sleep(0.1)
    raise SystemExit(f"server {host}:{port} did not answer {name} within {seconds} s")


# -- clients (each run in a process of its own) ------------------------------------------------


async def run_workers(
    names: list[str], queries: int, concurrency: int, ask: Callable[[str], Awaitable[str]]
) -> dict[str, Any]:
    """``concurrency`` workers share ``queries`` names round-robin; count statuses."""
    todo: Iterator[str] = itertools.islice(itertools.cycle(names), queries)
    statuses: collections.Counter[str] = collections.Counter()

    async def worker() -> None:
        for name in todo:
            statuses[await ask(name)] += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"queries": queries, "seconds": elapsed, "cpu": cpu, "statuses": dict(statuses)}


async def bench_engine(
    resolver: str, names: list[str], queries: int, concurrency: int, sockets: int = 2
) -> dict[str, Any]:
    from crawler.dns import DnsEngine, parse_resolver

    engine = DnsEngine([parse_resolver(resolver)], max_inflight=concurrency, sockets=sockets)
    async with engine:

        async def ask(name: str) -> str:
            return (await engine.query(name, "A")).status.value

        result = await run_workers(names, queries, concurrency, ask)
        result["stats"] = {k: getattr(engine.stats, k) for k in engine.stats.__slots__}
    return result


async def bench_dnspython(
    resolver: str, names: list[str], queries: int, concurrency: int
) -> dict[str, Any]:
    import dns.asyncquery
    import dns.exception
    import dns.message
    import dns.rcode

    from crawler.dns import parse_resolver

    host, port = parse_resolver(resolver)

    async def ask(name: str) -> str:
        query = dns.message.make_query(name, "A")
        try:
            response = await dns.asyncquery.udp(query, host, timeout=2.0, port=port)
        except dns.exception.Timeout:
            return "TIMEOUT"
        rcode = dns.rcode.to_text(response.rcode())
        return "NODATA" if rcode == "NOERROR" and not response.answer else rcode

    return await run_workers(names, queries, concurrency, ask)


def run_worker(args: argparse.Namespace) -> None:
    """The child side: run one Python client and print its result as JSON."""
    names = Path(args.names).read_text().split()
    if args.worker == "engine":
        run = bench_engine(args.resolver, names, args.queries, args.concurrency, args.sockets)
    else:
        run = bench_dnspython(args.resolver, names, args.queries, args.concurrency)
    result = asyncio.run(run)
    from scripts.rss import hwm_kb  # scripts/ is on the path by now (see the end of this file)

    result["rss_kb"] = hwm_kb(os.getpid()) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def wait_peak(process: subprocess.Popen[bytes], every: float = 0.1) -> tuple[int, int, float]:
    """Wait for ``process``; its exit code, its own peak RSS (KiB) and its CPU seconds.

    The peak is the process's ``VmHWM``, read every ``every`` seconds: ``wait4``'s ``ru_maxrss``
    also counts the parent's RSS at the fork (Linux keeps the high-water mark across exec), which
    hides a child smaller than its parent. ``ru_maxrss`` only when no sample was taken.
    """
    from scripts.rss import hwm_kb

    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            value = hwm_kb(process.pid)
            if value is None:
                return
            peak[0] = max(peak[0], value)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    done.set()
    thread.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, peak[0] or usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def run_child(command: list[str]) -> tuple[str, int, float]:
    """Run ``command``; its stdout, its own peak RSS in KiB and its CPU seconds (wait4)."""
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out)
        code, rss, cpu = wait_peak(process)
        out.seek(0)
        text = out.read().decode()
    if code:
        raise SystemExit(f"{command[:4]} failed with {code}:\n{text}")
    return text, rss, cpu


def python_client(resolver: str, which: str, names_file: Path, queries: int, concurrency: int,
                  sockets: int) -> dict[str, Any]:  # fmt: skip
    command = [
        sys.executable, __file__, "--worker", which, "--resolver", resolver,
        "--names", str(names_file), "--queries", str(queries), "--concurrency", str(concurrency),
        "--sockets", str(sockets),
    ]  # fmt: skip
    text, _, _ = run_child(command)
    result: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    return result


def run_dnsperf(dnsperf: str, resolver: str, lines: list[str], workdir: Path, *, seconds: float,
                concurrency: int) -> dict[str, Any]:  # fmt: skip
    """Run dnsperf on ``lines`` ("name TYPE") against ``resolver``; its figures and peak RSS."""
    data = workdir / "dnsperf.txt"
    data.write_text("".join(f"{line}\n" for line in lines))
    from crawler.dns import parse_resolver

    host, port = parse_resolver(resolver)
    command = [dnsperf, "-s", host, "-p", str(port), "-d", str(data), "-l",
               str(seconds), "-q", str(concurrency), "-t", "2"]  # fmt: skip
    text, rss, cpu = run_child(command)

    def number(label: str) -> float:
        match = re.search(rf"{label}:\s+([\d.]+)", text)
        return float(match.group(1)) if match else 0.0

    sent, completed = number("Queries sent"), number("Queries completed")
    qps = number("Queries per second")
    return {"queries": int(sent), "seconds": sent / qps if qps else 0.0, "cpu": cpu, "qps": qps,
            "statuses": {"NOERROR": int(completed)}, "rss_kb": rss}  # fmt: skip


def compare(resolver: str, names: list[str], workdir: Path, *, queries: int, naive_queries: int,
            concurrency: int = 200, naive_concurrency: int = 200, sockets: int = 2,
            dnsperf: str = DNSPERF, dnsperf_seconds: float = 5.0,
            skip: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:  # fmt: skip
    """The engine, then (unless skipped) the naive dnspython loop and dnsperf, on ``names`` (A
    queries) against ``resolver``: ``(label, result)`` rows for :func:`table`, the engine first."""
    names_file = workdir / "names.txt"
    names_file.write_text("\n".join(names) + "\n")
    rows = [(f"DnsEngine (c={concurrency}, sockets={sockets})",
             python_client(resolver, "engine", names_file, queries, concurrency, sockets))]  # fmt: skip
    if "naive" not in skip:
        rows.append((f"dnspython asyncquery.udp (c={naive_concurrency})",
                     python_client(resolver, "dnspython", names_file, naive_queries, naive_concurrency,
                                   sockets)))  # fmt: skip
    if "dnsperf" not in skip:
        rows.append((f"dnsperf (q={concurrency})",
                     run_dnsperf(dnsperf, resolver, [f"{n} A" for n in names], workdir,
                                 seconds=dnsperf_seconds, concurrency=concurrency)))  # fmt: skip
    return rows


# -- main --------------------------------------------------------------------------------------


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    lines = [
        f"{'client':<38} {'queries':>9} {'answered':>9} {'q/s':>9} {'q/cpu-s':>9} {'peak RSS':>9}"
    ]
    for label, r in rows:
        answered = sum(v for k, v in r["statuses"].items() if k in ANSWERED)
        qps = r["queries"] / r["seconds"] if r["seconds"] else 0.0
        per_cpu = r["queries"] / r["cpu"] if r["cpu"] else 0.0
        lines.append(
            f"{label:<38} {r['queries']:>9} {answered / max(r['queries'], 1):>8.1%} "
            f"{qps:>9,.0f} {per_cpu:>9,.0f} {r['rss_kb'] / 1024:>7.1f}MB"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resolver", help="HOST:PORT of the server to query")
    parser.add_argument("--names", help="file of names, one a line")
    parser.add_argument("--lab-state", type=Path, help="lab state JSON (resolver, list)")
    parser.add_argument("--spawn-knot", type=int, metavar="N", help="start knotd with N names")
    parser.add_argument("--queries", type=int, default=200_000, help="queries for the engine")
    parser.add_argument("--naive-queries", type=int, default=20_000, help="for dnspython")
    parser.add_argument(
        "--concurrency", type=int, default=200, help="queries in flight (engine and dnsperf)"
    )
    parser.add_argument("--sockets", type=int, default=2, help="engine UDP sockets")
    parser.add_argument("--naive-concurrency", type=int, default=200)
    parser.add_argument("--dnsperf", default=DNSPERF)
    parser.add_argument("--dnsperf-seconds", type=float, default=5.0)
    parser.add_argument("--skip", action="append", default=[], choices=["naive", "dnsperf"])
    parser.add_argument("--worker", choices=["engine", "dnspython"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench_dns.") as tmp:
        workdir = Path(tmp)
        knot: subprocess.Popen[bytes] | None = None
        try:
            if args.spawn_knot:
                knot, args.resolver, names = spawn_knot(args.spawn_knot, workdir)
            elif args.lab_state:
                args.resolver, names = names_from_lab(args.lab_state)
            elif args.resolver and args.names:
                names = Path(args.names).read_text().split()
            else:
                parser.error("give --resolver and --names, --lab-state or --spawn-knot")
            print(f"server {args.resolver}, {len(names)} distinct names, "
                  f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
            rows = compare(args.resolver, names, workdir, queries=args.queries,
                           naive_queries=args.naive_queries, concurrency=args.concurrency,
                           naive_concurrency=args.naive_concurrency, sockets=args.sockets,
                           dnsperf=args.dnsperf, dnsperf_seconds=args.dnsperf_seconds,
                           skip=tuple(args.skip))  # fmt: skip
            print(table(rows))
            print("engine stats:", json.dumps(rows[0][1].get("stats", {})))
        finally:
            if knot is not None:
                knot.terminate()
                knot.wait(10)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
