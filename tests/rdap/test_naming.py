"""name_networks and rdap_rows on a real DuckDB, against lab RDAP servers on loopback."""

from __future__ import annotations

import ipaddress
from datetime import datetime

import duckdb
import pytest

from crawler.rdap import RdapStatus, name_networks, rdap_rows
from crawler.rdap.cache import pending
from scripts.lab.rdap_server import Fault, FaultKind
from tests.rdap.conftest import StartServer, fast_client

AWS_ASN = 16509  # a registry provider's ASN: other evidence names these addresses
NETS = [
    ("192.0.0.0/16", "NET-192-0-0-0-1", "BIG-NET", "Example Hosting LLC", "arin", "US"),
    ("198.51.100.0/24", "DOC2", "DOC2-NET", "Example B.V.", "ripe", "NL"),
    ("2001:db8::/32", "NET6-2001-DB8-1", "DOC6", "Example v6", "arin"),
]


def _snapshot(con: duckdb.DuckDBPyConnection, origins: list[tuple[str, int | None]]) -> int:
    sid = int(
        con.execute(
            "insert into snapshots (list_name, tool_version, started_at, status)"
            " values ('file', 'test', ?, 'complete') returning snapshot_id",
            [datetime(2026, 5, 1)],
        ).fetchall()[0][0]
    )
    for ip, asn in origins:
        addr = ipaddress.ip_address(ip)
        con.execute("insert into ip_origins values (?, ?, ?, ?, null, ?)", [sid, ip, addr.version, str(int(addr)), asn])
    return sid


def _statuses(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute("select query_ip, status from rdap_networks order by query_ip, fetched_at").fetchall()


def test_a_network_is_asked_once_for_many_addresses(con: duckdb.DuckDBPyConnection, rdap_server: StartServer) -> None:
    server, url = rdap_server(NETS)
    inside = [f"192.0.{i}.{j}" for i in range(0, 250, 25) for j in (1, 200)]
    sid = _snapshot(con, [(ip, 64500) for ip in inside] + [("198.51.100.7", None), ("2001:db8::1", 64501)])
    assert name_networks(con, sid, fast_client(url)) == 3
    assert sum(server.counts.values()) == 3
    assert server.asked("192.0.0.1") == 1  # the lowest address is asked; the /16 answers the rest
    rows = {r.ip: r for r in rdap_rows(con, sid)}
    assert set(rows) == {*inside, "198.51.100.7", "2001:db8::1"}
    assert {rows[ip].handle for ip in inside} == {"NET-192-0-0-0-1"}
    assert rows["192.0.225.200"].org == "Example Hosting LLC" and rows["192.0.225.200"].cidr == "192.0.0.0/16"
    assert rows["198.51.100.7"].handle == "198.51.100.0 - 198.51.100.255"
    assert rows["2001:db8::1"].status == RdapStatus.OK
    # a later snapshot with more addresses in cached networks asks nothing
    later = _snapshot(con, [("192.0.99.99", None), ("198.51.100.200", None)])
    assert name_networks(con, later, fast_client(url)) == 0
    assert sum(server.counts.values()) == 3
    assert {r.handle for r in rdap_rows(con, later)} == {"NET-192-0-0-0-1", "198.51.100.0 - 198.51.100.255"}


def test_registry_addresses_are_not_asked(con: duckdb.DuckDBPyConnection, rdap_server: StartServer) -> None:
    server, url = rdap_server(NETS)
    sid = _snapshot(con, [("192.0.2.1", AWS_ASN), ("198.51.100.7", 64500)])
    assert name_networks(con, sid, fast_client(url)) == 1
    assert server.asked("192.0.2.1") == 0 and server.asked("198.51.100.7") == 1


def test_transient_failures_are_retried_on_a_later_run(
    con: duckdb.DuckDBPyConnection, rdap_server: StartServer
) -> None:
    faults = {
        "NET-192-0-0-0-1": Fault(FaultKind.ERROR, status=503, times=1),
        "DOC2": Fault(FaultKind.ERROR, status=403),  # final: never asked again
        "NET6-2001-DB8-1": Fault(FaultKind.SLOW, delay=30, times=1),
    }
    server, url = rdap_server(NETS, faults)
    sid = _snapshot(con, [("192.0.2.1", None), ("198.51.100.7", None), ("2001:db8::1", None), ("203.0.113.1", None)])
    client = fast_client(url, timeout=0.3)
    assert name_networks(con, sid, client) == 4
    assert dict(_statuses(con)) == {
        "192.0.2.1": "HTTP_503",
        "198.51.100.7": "HTTP_403",
        "2001:db8::1": RdapStatus.TIMEOUT,
        "203.0.113.1": RdapStatus.NOT_FOUND,
    }
    assert name_networks(con, sid, client) == 2  # the 503 and the timeout
    assert dict(_statuses(con)) == {
        "192.0.2.1": RdapStatus.OK,
        "198.51.100.7": "HTTP_403",
        "2001:db8::1": RdapStatus.OK,
        "203.0.113.1": RdapStatus.NOT_FOUND,
    }
    assert len(_statuses(con)) == 4  # the transient rows were replaced
    assert name_networks(con, sid, client) == 0
    assert server.asked("198.51.100.7") == 1 and server.asked("203.0.113.1") == 1


def test_rate_limited_is_cached_then_retried(
    con: duckdb.DuckDBPyConnection, rdap_server: StartServer, fake_time: object
) -> None:
    server, url = rdap_server(NETS, {"*": Fault(FaultKind.RATE_LIMIT, retry_after="0", times=3)})
    sid = _snapshot(con, [("192.0.2.1", None)])
    client = fast_client(url, max_rate_limited=2)
    assert name_networks(con, sid, client) == 1
    assert _statuses(con) == [("192.0.2.1", RdapStatus.RATE_LIMITED)]
    assert [r.status for r in rdap_rows(con, sid)] == [RdapStatus.RATE_LIMITED]
    assert name_networks(con, sid, client) == 1
    assert _statuses(con) == [("192.0.2.1", RdapStatus.OK)]
    assert server.asked("192.0.2.1") == 4


def test_malformed_answers_never_poison_the_cache(con: duckdb.DuckDBPyConnection, rdap_server: StartServer) -> None:
    server, url = rdap_server(NETS, {"NET-192-0-0-0-1": Fault(FaultKind.MALFORMED)})
    sid = _snapshot(con, [("192.0.2.1", None), ("192.0.3.1", None)])
    client = fast_client(url)
    assert name_networks(con, sid, client) == 2  # no network learned: each address asked
    assert con.execute("select count(*) from rdap_networks where status = 'OK'").fetchall() == [(0,)]
    assert {p.ip for p in pending(con, sid)} == {"192.0.2.1", "192.0.3.1"}
    server.faults.clear()
    assert name_networks(con, sid, client) == 1  # healed: one lookup names both
    assert {(r.ip, r.status) for r in rdap_rows(con, sid)} == {("192.0.2.1", "OK"), ("192.0.3.1", "OK")}
    assert con.execute("select count(*) from rdap_networks").fetchall() == [(1,)]


def test_limit_and_reserved_space(con: duckdb.DuckDBPyConnection, rdap_server: StartServer) -> None:
    server, url = rdap_server(NETS)
    sid = _snapshot(con, [("192.0.2.1", None), ("198.51.100.7", None), ("2001:db8::1", None), ("10.0.0.1", None)])
    assert name_networks(con, sid, fast_client(url), limit=1) == 1
    assert name_networks(con, sid, fast_client(url)) == 2
    assert sum(server.counts.values()) == 3


def test_per_rir_servers_in_parallel(con: duckdb.DuckDBPyConnection, rdap_server: StartServer) -> None:
    from crawler.rdap import RdapClient, RdapConfig, Rir

    arin, arin_url = rdap_server([("8.8.8.0/24", "NET-8-8-8-0-1", "GOGL", "Google LLC")])
    ripe, ripe_url = rdap_server([("193.0.0.0/21", "RIPE-NCC", "RIPE-NCC", "RIPE NCC", "ripe")])
    servers = {rir: arin_url for rir in Rir} | {Rir.RIPE: ripe_url}
    client = RdapClient(RdapConfig(servers=servers, rates=dict.fromkeys(Rir, 1000.0), timeout=5))
    sid = _snapshot(con, [("8.8.8.8", None), ("8.8.8.4", 64500), ("193.0.6.139", 3333), ("193.0.0.1", None)])
    assert name_networks(con, sid, client) == 2
    assert sum(arin.counts.values()) == 1 and sum(ripe.counts.values()) == 1
    rows = {r.ip: (r.rir, r.org) for r in rdap_rows(con, sid)}
    assert rows["8.8.8.8"] == ("arin", "Google LLC") and rows["193.0.0.1"] == ("ripe", "RIPE NCC")


@pytest.mark.parametrize("family", [4, 6])
def test_rdap_rows_empty_without_cache(con: duckdb.DuckDBPyConnection, family: int) -> None:
    sid = _snapshot(con, [("192.0.2.1" if family == 4 else "2001:db8::1", None)])
    assert rdap_rows(con, sid) == []
