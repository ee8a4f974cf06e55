"""The DNS engine of the crawl: plain asyncio, no Scrapy import.

- :mod:`~crawler.dns.wire`: hand-built queries and a minimal response parser;
- :mod:`~crawler.dns.engine`: :class:`DnsEngine`, many queries over a few UDP sockets;
- :mod:`~crawler.dns.site`: :func:`lookup_site`, every query of one site;
- :mod:`~crawler.dns.system`: which resolver to ask;
- :mod:`~crawler.dns.status`: the outcome vocabulary.
"""

from __future__ import annotations

from crawler.dns.engine import DnsEngine, EngineStats, QueryResult
from crawler.dns.errors import InvalidName, InvalidResolver, MalformedMessage
from crawler.dns.site import Querier, SharedLookups, SiteLookup, lookup_site
from crawler.dns.status import Status, to_status
from crawler.dns.system import parse_resolver, system_nameservers
from crawler.dns.wire import Record, Response, build_query, parse_response

__all__ = [
    "DnsEngine",
    "EngineStats",
    "InvalidName",
    "InvalidResolver",
    "MalformedMessage",
    "Querier",
    "QueryResult",
    "Record",
    "Response",
    "SharedLookups",
    "SiteLookup",
    "Status",
    "build_query",
    "lookup_site",
    "parse_resolver",
    "parse_response",
    "system_nameservers",
    "to_status",
]
