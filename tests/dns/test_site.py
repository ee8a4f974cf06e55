"""lookup_site on a small world: order, statuses, and NS hosts asked once per crawl."""

from __future__ import annotations

import asyncio

import pytest

from crawler.dns import (
    DnsEngine,
    InvalidName,
    QueryResult,
    SharedLookups,
    SiteLookup,
    Status,
    lookup_site,
)
from tests.dns.server import DnsTestServer, Mode

NS = [("NS", "ns1.dnsprov.test."), ("NS", "NS2.dnsprov.test.")]
WORLD = {
    "shop.test": [
        ("A", "192.0.2.10"),
        ("AAAA", "2001:db8::10"),
        ("MX", "10 mx.mailprov.test."),
        ("SOA", "ns1.dnsprov.test. hostmaster.shop.test. 1 7200 900 1209600 300"),
        *NS,
    ],
    "www.shop.test": [("CNAME", "shop.cdn.test.")],
    "shop.cdn.test": [("A", "198.51.100.1")],
    "blog.test": [*NS, ("NS", "ns.blog.test.")],
    "www.blog.test": [("A", "198.51.100.2")],
    "ns.blog.test": [("A", "192.0.2.53")],
    "parked.test": [("NS", "ns1.dnsprov.test.")],
    "ns1.dnsprov.test": [("A", "203.0.113.1"), ("AAAA", "2001:db8:53::1")],
    "ns2.dnsprov.test": [("A", "203.0.113.2")],
    "slowns.test": [("A", "192.0.2.99"), ("NS", "slow.dnsprov.test.")],
    "slow.dnsprov.test": [("A", "203.0.113.9")],
    "gone.test": [("A", "192.0.2.1")],
}
MODES = {"gone.test": Mode.DROP, "www.gone.test": Mode.DROP, "slow.dnsprov.test": Mode.SLOW}


async def crawl(
    domains: list[str], shared: SharedLookups
) -> tuple[list[SiteLookup], DnsTestServer]:
    async with DnsTestServer(WORLD, MODES, slow_delay=0.05) as server:
        engine = DnsEngine([server.address], timeout=1.0, retries=0)
        async with engine:
            sites = await asyncio.gather(*(lookup_site(engine, d, shared) for d in domains))
    return list(sites), server


def kinds(results: tuple[QueryResult, ...]) -> list[tuple[str, str]]:
    return [(r.qname, r.qtype) for r in results]


def test_one_site() -> None:
    (site,), _server = asyncio.run(crawl(["Shop.Test."], SharedLookups()))
    assert site.domain == "shop.test" and site.status is Status.NOERROR
    assert sorted(site.ns_hosts) == ["ns1.dnsprov.test", "ns2.dnsprov.test"]  # server shuffles
    assert kinds(site.results[:7]) == [
        ("shop.test", "A"), ("shop.test", "AAAA"), ("www.shop.test", "A"),
        ("www.shop.test", "AAAA"), ("shop.test", "NS"), ("shop.test", "MX"), ("shop.test", "SOA"),
    ]  # fmt: skip
    assert sorted(kinds(site.results[7:])) == [
        ("mx.mailprov.test", "A"), ("mx.mailprov.test", "AAAA"),
        ("ns1.dnsprov.test", "A"), ("ns1.dnsprov.test", "AAAA"),
        ("ns2.dnsprov.test", "A"), ("ns2.dnsprov.test", "AAAA"),
    ]  # fmt: skip
    by_kind = {(r.qname, r.qtype): r for r in site.results}
    www_a = site.results[2]
    assert [(r.rtype, r.value) for r in www_a.records] == [
        ("CNAME", "shop.cdn.test"),
        ("A", "198.51.100.1"),
    ]
    assert www_a.status is Status.NOERROR
    assert site.results[3].status is Status.NOERROR  # CNAME, no AAAA at the target
    assert by_kind[("ns2.dnsprov.test", "AAAA")].status is Status.NODATA
    assert site.results[5].records[0].value == "10 mx.mailprov.test"


def test_ns_and_mx_hosts_asked_once_per_crawl() -> None:
    shared = SharedLookups()
    domains = ["shop.test", "blog.test", "parked.test"] * 3
    sites, server = asyncio.run(crawl(domains, shared))
    for host in ("ns1.dnsprov.test", "ns2.dnsprov.test", "ns.blog.test"):
        for qtype in ("A", "AAAA"):
            assert server.queries[(host, qtype, "udp")] == 1
    carried = [r for site in sites for r in site.results if r.qname.startswith("ns")]
    assert sorted(kinds(tuple(carried))) == sorted(
        (host, qtype)
        for host in ("ns1.dnsprov.test", "ns2.dnsprov.test", "ns.blog.test")
        for qtype in ("A", "AAAA")
    )
    assert set(sites[1].ns_hosts) == {"ns1.dnsprov.test", "ns2.dnsprov.test", "ns.blog.test"}
    assert sites[2].ns_hosts == ("ns1.dnsprov.test",)
    # NS hosts and the one mail exchanger (mx.mailprov.test), each asked once.
    assert shared.issued == 4 and len(shared) == 4
    assert server.queries[("mx.mailprov.test", "A", "udp")] == 1
    assert shared.status("ns2.dnsprov.test") is Status.NOERROR


def test_concurrent_sites_wait_for_one_ns_query() -> None:
    # slow.dnsprov.test answers late, so every site asks while the first query is in flight.
    shared = SharedLookups()
    sites, server = asyncio.run(crawl(["slowns.test"] * 5, shared))
    assert server.queries[("slow.dnsprov.test", "A", "udp")] == 1
    owners = [s for s in sites if any(r.qname == "slow.dnsprov.test" for r in s.results)]
    assert len(owners) == 1
    assert all(s.ns_hosts == ("slow.dnsprov.test",) for s in sites)


def test_site_statuses() -> None:
    sites, _ = asyncio.run(crawl(["nothere.test", "gone.test", "parked.test"], SharedLookups()))
    assert [s.status for s in sites] == [Status.NXDOMAIN, Status.TIMEOUT, Status.NODATA]
    assert sites[0].ns_hosts == ()


def test_cancelled_owner_hands_over() -> None:
    class Gate:
        """An engine whose first query waits until released, to cancel its caller there."""

        def __init__(self) -> None:
            self.started = asyncio.Event()
            self.asked: list[str] = []

        async def query(self, qname: str, qtype: str) -> QueryResult:
            self.asked.append(qname)
            if len(self.asked) == 1:
                self.started.set()
                await asyncio.sleep(3600)
            return QueryResult(qname, qtype, Status.NXDOMAIN, 3, (), 0.0, 1, "udp", "x:53")

    async def main() -> None:
        shared, engine = SharedLookups(), Gate()
        owner = asyncio.ensure_future(shared.lookup(engine, "ns.x"))
        await engine.started.wait()
        waiter = asyncio.ensure_future(shared.lookup(engine, "ns.x"))
        await asyncio.sleep(0)
        owner.cancel()
        assert len(await waiter) == 2  # the waiter asked itself
        assert await shared.lookup(engine, "ns.x") == ()

    asyncio.run(main())


def test_bounded_memory() -> None:
    async def main() -> None:
        shared = SharedLookups(max_hosts=2)

        class Echo:
            async def query(self, qname: str, qtype: str) -> QueryResult:
                return QueryResult(qname, qtype, Status.NXDOMAIN, 3, (), 0.0, 1, "udp", "x:53")

        for host in ["a", "b", "a", "c", "a", "b"]:
            await shared.lookup(Echo(), host)
        assert len(shared) == 2 and shared.issued == 4  # "b" was evicted by "c", asked again

    asyncio.run(main())


def test_bad_domain_raises() -> None:
    with pytest.raises(InvalidName):
        asyncio.run(crawl(["a..test"], SharedLookups()))
