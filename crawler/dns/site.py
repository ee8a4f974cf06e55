"""All the DNS facts of one site, with name-server host lookups shared across a crawl.

For a site ``domain`` we ask: A and AAAA of ``domain`` and of ``www.domain`` (their CNAME chains
come in the same answers), NS, MX and SOA of ``domain``; then A and AAAA of each name-server host
in the NS answer. Thousands of sites share a handful of name-server hosts (``ns1.provider.net``),
so those lookups go through :class:`SharedLookups`: each host is asked once per crawl (while it is
remembered: the crawl keeps the 200,000 hosts used last, ``DNS_SHARED_HOSTS``), and the
site whose call asked it carries the results, so storage writes each fact once per snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from crawler.dns.engine import QueryResult
from crawler.dns.errors import InvalidName
from crawler.dns.status import Status
from crawler.dns.wire import encode_name

logger = logging.getLogger(__name__)

_ADDRESS_TYPES = frozenset({"A", "AAAA"})


class Querier(Protocol):
    """What :func:`lookup_site` needs from an engine (:class:`~crawler.dns.engine.DnsEngine`)."""

    async def query(self, qname: str, qtype: str) -> QueryResult: ...


@dataclass(frozen=True, slots=True)
class SiteLookup:
    """The DNS facts of one site.

    ``status`` is NOERROR when the apex or ``www`` resolved to an address, else the status of
    the apex A query (NODATA when that query was NOERROR through a CNAME that led nowhere).
    ``results`` holds this site's queries, then the name-server host queries this call issued;
    ``ns_hosts`` names every name-server host the site relies on, asked here or elsewhere.
    """

    domain: str
    status: Status
    results: tuple[QueryResult, ...]
    ns_hosts: tuple[str, ...]


def _has_address(result: QueryResult) -> bool:
    return result.status is Status.NOERROR and any(
        record.rtype in _ADDRESS_TYPES for record in result.records
    )


def _outcome(a: QueryResult, others: tuple[QueryResult, ...]) -> Status:
    """NOERROR if any of ``a`` and ``others`` has an address, else ``a``'s status (see above)."""
    if _has_address(a) or any(_has_address(result) for result in others):
        return Status.NOERROR
    return Status.NODATA if a.status is Status.NOERROR else a.status


class SharedLookups:
    """Name-server host lookups of one crawl: each host asked once, concurrent askers wait.

    Only a status per host is kept (never records), so memory stays small; ``max_hosts`` bounds
    it further by forgetting the least recently used hosts (a forgotten host may be asked again).

    :param max_hosts: most hosts remembered, or ``None`` for no bound.
    """

    def __init__(self, max_hosts: int | None = None) -> None:
        self._done: dict[str, Status] = {}
        self._inflight: dict[str, asyncio.Future[None]] = {}
        self._max_hosts = max_hosts
        self.issued = 0
        """Hosts this crawl actually asked (a host asked again after eviction counts twice)."""

    def __len__(self) -> int:
        return len(self._done)

    def status(self, host: str) -> Status | None:
        """The outcome of ``host`` if it has been looked up (NOERROR: it has an address)."""
        return self._done.get(host)

    def preload(self, hosts: Iterable[str]) -> None:
        """Mark ``hosts`` as asked already (a resumed crawl's snapshot holds their answers)."""
        for host in hosts:
            self._remember(host, Status.NOERROR)

    def _remember(self, host: str, status: Status) -> None:
        self._done[host] = status
        if self._max_hosts is not None and len(self._done) > self._max_hosts:
            del self._done[next(iter(self._done))]

    async def lookup(self, engine: Querier, host: str) -> tuple[QueryResult, ...]:
        """A and AAAA of ``host`` if nobody in this crawl asked yet, else ``()``.

        When another caller is asking right now, wait for it; if that caller is cancelled
        before it finishes, one of the waiters asks instead, so no fact is lost.
        """
        while True:
            status = self._done.get(host)
            if status is not None:
                if self._max_hosts is not None:  # least recently used goes first
                    del self._done[host]
                    self._done[host] = status
                return ()
            waiting = self._inflight.get(host)
            if waiting is None:
                break
            await asyncio.shield(waiting)
        done = asyncio.get_running_loop().create_future()
        self._inflight[host] = done
        try:
            self.issued += 1
            a, aaaa = await asyncio.gather(engine.query(host, "A"), engine.query(host, "AAAA"))
            self._remember(host, _outcome(a, (aaaa,)))
            return (a, aaaa)
        finally:
            del self._inflight[host]
            done.set_result(None)


def _ns_hosts(ns: QueryResult) -> tuple[str, ...]:
    """The distinct name-server hosts of an NS answer, in answer order (the root excluded)."""
    hosts = dict.fromkeys(r.value for r in ns.records if r.rtype == "NS" and r.value != ".")
    return tuple(hosts)


def _mx_hosts(mx: QueryResult) -> tuple[str, ...]:
    """The distinct mail-exchanger hosts of an MX answer (RFC 7505 null MX "." excluded)."""
    hosts = dict.fromkeys(
        r.value.split(" ", 1)[1] for r in mx.records if r.rtype == "MX" and " " in r.value
    )
    return tuple(h for h in hosts if h and h != ".")


async def _host_part(
    engine: Querier, domain: str, qtype: str, shared: SharedLookups
) -> tuple[QueryResult, tuple[QueryResult, ...], tuple[str, ...]]:
    """NS (or MX) of ``domain``, then the shared address lookups of the hosts it names, as
    soon as that answer is in."""
    answer = await engine.query(domain, qtype)
    hosts: list[str] = []
    for host in (_ns_hosts if qtype == "NS" else _mx_hosts)(answer):
        try:
            encode_name(host)
        except InvalidName:
            logger.debug("%s host %r of %s cannot be queried", qtype, host, domain)
            continue
        hosts.append(host)
    per_host = await asyncio.gather(*(shared.lookup(engine, host) for host in hosts))
    return answer, tuple(r for results in per_host for r in results), tuple(hosts)


async def lookup_site(engine: Querier, domain: str, shared: SharedLookups) -> SiteLookup:
    """Run every DNS query of one site concurrently and collect the results.

    :param engine: the query engine (a :class:`~crawler.dns.engine.DnsEngine`).
    :param domain: the site's registrable domain, e.g. ``"example.com"``.
    :param shared: the crawl's :class:`SharedLookups`, shared by every site of the crawl.
    :returns: the site's results in a fixed order: apex A, AAAA, www A, AAAA, NS, MX, SOA,
        then the name-server and mail-exchanger host results issued by this call (each host's
        A/AAAA is asked once per crawl, by whichever site needs it first).
    :raises InvalidName: when ``domain`` itself cannot be encoded as a DNS name.
    """
    domain = domain.lower().rstrip(".")
    encode_name(domain)
    www = f"www.{domain}"
    try:
        encode_name(www)
    except InvalidName:  # a 250-byte domain: its www name does not fit, the apex still does
        names = [(domain, "A"), (domain, "AAAA")]
    else:
        names = [(domain, "A"), (domain, "AAAA"), (www, "A"), (www, "AAAA")]
    names += [(domain, "SOA")]
    direct, (ns, ns_results, hosts), (mx, mx_results, _) = await asyncio.gather(
        asyncio.gather(*(engine.query(name, qtype) for name, qtype in names)),
        _host_part(engine, domain, "NS", shared),
        _host_part(engine, domain, "MX", shared),
    )
    addresses = tuple(r for r in direct if r.qtype in _ADDRESS_TYPES)
    status = _outcome(direct[0], addresses[1:])
    results = (*addresses, ns, mx, *(r for r in direct if r.qtype not in _ADDRESS_TYPES))
    return SiteLookup(domain, status, (*results, *ns_results, *mx_results), hosts)
