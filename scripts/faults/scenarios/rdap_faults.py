"""RDAP faults: 429 with Retry-After, 5xx, malformed JSON, slow answers and redirects.

The addresses of a clean lab crawl are named with ``crawler.rdap.name_networks`` (the function
``crawl`` calls) against the lab's RDAP server told to misbehave, on a copy of the real DuckDB
file; then again against a healthy server. Expected: every lookup ends with its status (a
transient one is cached as such), a 429 is waited out as its Retry-After says (within bounds),
and once the server is healthy every address is named by the right network: the cache is not
poisoned. Then the same through the command line: a crawl with a failing RDAP server
completes, and a second crawl with a healthy one replaces the failures.
"""

from __future__ import annotations

import ipaddress
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from crawler import registry as registry_mod
from crawler.rdap import RdapClient, RdapConfig, name_networks
from crawler.rdap.status import RETRYABLE
from scripts.faults.harness import Context, Row, query, scenario, snapshot_row
from scripts.lab.rdap_main import extra_networks
from scripts.lab.rdap_server import Fault, FaultKind, LabNetwork, RdapLabServer, networks_from_world, start_rdap_server
from scripts.lab.rdap_server import stop as stop_server

CLIENT_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class Case:
    """One RDAP fault: the server's misbehaviour, the lookups allowed, the statuses expected."""

    name: str
    fault: Fault
    expect: frozenset[str]
    limit: int | None = 20
    min_seconds: float = 0.0  # the backoff the client must have waited
    heals: bool = True  # a healthy server later names every address


CASES = (
    Case("429 with Retry-After, then answers", Fault(FaultKind.RATE_LIMIT, times=3, retry_after="1"),
         frozenset({"OK"}), min_seconds=2.5),
    Case("429 with Retry-After over the bound", Fault(FaultKind.RATE_LIMIT, retry_after="3600"),
         frozenset({"RATE_LIMITED"})),
    Case("429 without Retry-After", Fault(FaultKind.RATE_LIMIT, times=2, retry_after=None),
         frozenset({"OK"}), min_seconds=0.25),
    Case("503", Fault(FaultKind.ERROR, status=503), frozenset({"HTTP_503"})),
    Case("500", Fault(FaultKind.ERROR, status=500), frozenset({"HTTP_500"})),
    Case("malformed JSON", Fault(FaultKind.MALFORMED), frozenset({"MALFORMED"})),
    Case("slow, over the client's timeout", Fault(FaultKind.SLOW, delay=CLIENT_TIMEOUT * 4),
         frozenset({"TIMEOUT"}), limit=3),
    Case("slow, within the timeout", Fault(FaultKind.SLOW, times=5, delay=CLIENT_TIMEOUT / 4),
         frozenset({"OK"})),
    Case("redirect to the same server", Fault(FaultKind.REDIRECT), frozenset({"OK"})),
    Case("redirect to another server", Fault(FaultKind.REDIRECT, location="http://127.0.0.1:9/ip/192.0.2.1"),
         frozenset({"HTTP_302"}), limit=5, heals=False),
)


def lab_networks(state: dict[str, Any]) -> list[LabNetwork]:
    folder = Path(state["state_dir"])
    return [*networks_from_world(folder), *extra_networks(folder)]


def client(url: str) -> RdapClient:
    return RdapClient(RdapConfig(base_url=url, base_rate=1000.0, burst=100.0, timeout=CLIENT_TIMEOUT,
                                 default_backoff=0.1, max_backoff=10.0))


def poisoned(con: duckdb.DuckDBPyConnection, server: RdapLabServer) -> tuple[int, int]:
    """OK rows whose network is not the one the server holds for the address, and transient
    failure rows still cached beside a network that covers them."""
    wrong = 0
    for ip, start, end, name in con.execute(
            "select query_ip, start_num::varchar, end_num::varchar, name from rdap_networks"
            " where status = 'OK'").fetchall():
        found = server.find(ipaddress.ip_address(ip))
        if found is None or (int(start), int(end), name) != (
                int(found[0].network_address), int(found[0].broadcast_address), found[1].name):
            wrong += 1
    (stale,) = con.execute(
        "select count(*) from rdap_networks f where list_contains($r, f.status) and exists (select 1 from"
        " rdap_networks n where n.status = 'OK' and n.family = f.family"
        " and f.start_num between n.start_num and n.end_num)", {"r": sorted(RETRYABLE)}).fetchone() or (0,)
    return wrong, int(stale)


def unnamed(con: duckdb.DuckDBPyConnection, sid: int, want: list[str]) -> int:
    """Addresses of ``want`` that no OK row covers."""
    covered = {ip for (ip,) in con.execute(
        "select o.ip from ip_origins o join rdap_networks n on n.family = o.family and o.ip_num between"
        " n.start_num and n.end_num and n.status = 'OK' where o.snapshot_id = ?", [sid]).fetchall()}
    return sum(1 for ip in want if ip not in covered)


def run_case(case: Case, base: Path, folder: Path, networks: list[LabNetwork]) -> Row:
    db = folder / f"{case.name.replace(' ', '_').replace(',', '')}.duckdb"
    shutil.copy(base, db)
    reg = registry_mod.load()
    con = duckdb.connect(str(db))
    try:
        sid = int(con.execute("select max(snapshot_id) from snapshots").fetchone()[0])  # type: ignore[index]
        bad, url = start_rdap_server(networks, {"*": case.fault})
        try:
            t0 = time.perf_counter()
            asked = name_networks(con, sid, client(url), limit=case.limit, registry=reg)
            waited = time.perf_counter() - t0
            requests = sum(bad.counts.values())
        finally:
            stop_server(bad)
        first = Counter(s for (s,) in con.execute("select status from rdap_networks").fetchall())
        good, url = start_rdap_server(networks)
        try:
            want = [p.ip for p in _needing(con, sid, reg) if good.find(ipaddress.ip_address(p.ip))]
            healed = name_networks(con, sid, client(url), registry=reg)
            wrong, stale = poisoned(con, good)
            missing = unnamed(con, sid, want)
        finally:
            stop_server(good)
    finally:
        con.close()
    statuses = ", ".join(f"{k} {v}" for k, v in first.most_common())
    ok = set(first) <= case.expect and asked > 0 and waited >= case.min_seconds and wrong == 0 and stale == 0
    lost = missing if case.heals else 0
    ok = ok and (missing == 0 or not case.heals)
    return Row(f"rdap: {case.name}", asked,
               f"{statuses} ({requests} requests, {waited:.1f} s); healthy server then named {healed} more: "
               f"{len(want) - missing}/{len(want)} addresses named, {wrong} wrong networks, {stale} stale failures",
               rows_lost=lost, ok=ok)


def _needing(con: duckdb.DuckDBPyConnection, sid: int, reg: registry_mod.Registry) -> list[Any]:
    """Every address of the snapshot that needs an RDAP name (asked or not yet)."""
    from crawler.rdap.cache import Pending
    from crawler.rdap.naming import needs_naming

    rows = con.execute("select ip, family, ip_num::varchar, asn from ip_origins where snapshot_id = ?",
                       [sid]).fetchall()
    return needs_naming([Pending(str(ip), int(f), int(n), a) for ip, f, n, a in rows], reg)


@scenario("rdap faults", family="rdap", needs=("lab",))
def rdap_faults(ctx: Context) -> list[Row]:
    base = ctx.base_db()
    folder = ctx.path("rdap")
    networks = lab_networks(ctx.lab())
    return [run_case(case, base, folder, networks) for case in CASES]


@scenario("rdap failing during a crawl", family="rdap", needs=("lab",))
def rdap_crawl(ctx: Context) -> list[Row]:
    folder = ctx.path("rdap_crawl")
    db = folder / "crawl.duckdb"
    networks = lab_networks(ctx.lab())
    bad, url = start_rdap_server(networks, {"*": Fault(FaultKind.ERROR, status=503)})
    try:
        first = ctx.cli(*ctx.crawl_args(db, rdap=True, extra=("--rdap-url", url, "--rdap-limit", "60")))
    finally:
        stop_server(bad)
    good, url = start_rdap_server(networks)
    try:
        second = ctx.cli(*ctx.crawl_args(db, rdap=True, extra=("--rdap-url", url)))
    finally:
        stop_server(good)
    if first.returncode or second.returncode:
        return [Row("rdap: 503 during a crawl", 1, f"{first.describe()}; then {second.describe()}",
                    crashes=int(first.crashed) + int(second.crashed), ok=False)]
    snaps = [r[0] for r in query(db, "select status from snapshots order by snapshot_id")]
    statuses = Counter(s for (s,) in query(db, "select status from rdap_networks"))
    sid = int(snapshot_row(db)["snapshot_id"])
    failed_first = int(snapshot_row(db, 1)["stats"].get("rdap_lookups", 0))
    con = duckdb.connect(str(db), read_only=True)
    try:
        wrong, stale = poisoned(con, good)
        reg = registry_mod.load()
        want = [p.ip for p in _needing(con, sid, reg) if good.find(ipaddress.ip_address(p.ip))]
        missing = unnamed(con, sid, want)
    finally:
        con.close()
    return [Row("rdap: 503 during a crawl, then a healthy crawl", failed_first,
                f"snapshots {', '.join(snaps)}; cache now {', '.join(f'{k} {v}' for k, v in statuses.most_common())};"
                f" {len(want) - missing}/{len(want)} addresses named, {wrong} wrong, {stale} stale",
                rows_lost=missing, crashes=int(first.crashed) + int(second.crashed),
                ok=snaps == ["complete", "complete"] and failed_first > 0 and wrong == 0 and stale == 0)]
