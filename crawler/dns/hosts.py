"""Address lookups of single host names: the hosts a home page loads resources from, and the
hosts of redirects, which are not sites of the list.

A host gets A and AAAA (their CNAME chains come in the same answers); its status is NOERROR
when either gave an address, else the A query's status (as for a site, see
:func:`crawler.dns.site.lookup_site`).
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

from crawler.dns.engine import QueryResult
from crawler.dns.errors import InvalidName
from crawler.dns.site import Querier, _outcome
from crawler.dns.status import Status
from crawler.dns.wire import encode_name


@dataclass(frozen=True, slots=True)
class HostLookup:
    """A host's A and AAAA results; ``domain`` holds the host (the storage code's field name)."""

    domain: str
    status: Status
    results: tuple[QueryResult, ...]


async def lookup_host(engine: Querier, host: str) -> HostLookup:
    """A and AAAA of ``host``; an unencodable name gives ``MALFORMED`` and no query."""
    try:
        encode_name(host)
    except InvalidName:
        return HostLookup(host, Status.MALFORMED, ())
    a, aaaa = await asyncio.gather(engine.query(host, "A"), engine.query(host, "AAAA"))
    return HostLookup(host, _outcome(a, (aaaa,)), (a, aaaa))


def addresses_of(results: tuple[QueryResult, ...], host: str) -> list[str]:
    """The addresses ``host`` resolves to (after its CNAME chain): A records first, then AAAA."""
    host = host.lower().rstrip(".")
    out: dict[str, None] = {}
    for qtype in ("A", "AAAA"):
        for result in results:
            if result.qname == host and result.qtype == qtype and result.status is Status.NOERROR:
                out.update((r.value, None) for r in result.records if r.rtype == qtype)
    return list(out)


def ip_literal(host: str) -> str | None:
    """``host`` as an address when it is an IP literal (``[::1]`` brackets allowed), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None
