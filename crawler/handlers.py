"""Scrapy download handler for ``dns://`` requests: a thin adapter around
:func:`crawler.dns.site.lookup_site`.

A request carries a batch of sites in ``meta["domains"]`` (see :mod:`crawler.spiders`); the
handler looks them all up concurrently and returns them, in order, as ``response.lookups``
(:class:`~crawler.dns.site.SiteLookup` objects) with ``response.elapsed_ms`` per site.
One :class:`~crawler.dns.engine.DnsEngine` (and one name-server cache) serves the whole crawl.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from scrapy.http import Response

from crawler.dns.engine import DnsEngine
from crawler.dns.site import SharedLookups, lookup_site

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class DnsResponse(Response):
    """A response whose payload is a batch of sites' DNS lookups, not bytes."""

    def __init__(self, *args: Any, lookups: list[Any], elapsed_ms: list[float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lookups = lookups
        self.elapsed_ms = elapsed_ms


class DnsDownloadHandler:
    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        resolvers = s.getlist("DNS_RESOLVERS")
        if not resolvers:
            raise ValueError("DNS_RESOLVERS is empty")
        self.engine = DnsEngine(
            [(str(h), int(p)) for h, p in resolvers],
            timeout=s.getfloat("DNS_TIMEOUT"),
            retries=s.getint("DNS_RETRIES"),
            max_inflight=s.getint("DNS_MAX_INFLIGHT"),
        )
        self.shared = SharedLookups()
        crawler.stats.set_value("dns/engine", "multiplexed-udp")
        self._crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DnsDownloadHandler:
        return cls(crawler)

    async def _timed(self, domain: str) -> tuple[Any, float]:
        t0 = time.perf_counter()
        lookup = await lookup_site(self.engine, domain, self.shared)
        return lookup, (time.perf_counter() - t0) * 1000

    async def download_request(self, request: Request) -> Response:
        done = await asyncio.gather(*(self._timed(d) for d in request.meta["domains"]))
        return DnsResponse(
            url=request.url, request=request,
            lookups=[lookup for lookup, _ in done], elapsed_ms=[ms for _, ms in done],
        )

    async def close(self) -> None:
        stats = self._crawler.stats
        for key, value in asdict(self.engine.stats).items():
            stats.set_value(f"dns/{key}", value)
        stats.set_value("dns/shared_hosts", len(self.shared))
        await self.engine.close()
