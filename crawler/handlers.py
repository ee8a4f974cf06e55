"""Scrapy download handler for ``dns://<site>`` requests: a thin adapter around
:func:`crawler.dns.site.lookup_site`.

One :class:`~crawler.dns.engine.DnsEngine` (and one name-server cache) serves the whole crawl.
The response carries the :class:`~crawler.dns.site.SiteLookup` as ``response.lookup``.
"""

from __future__ import annotations

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
    """A response whose payload is a site's DNS lookup, not bytes."""

    def __init__(self, *args: Any, lookup: Any = None, elapsed_ms: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lookup = lookup
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

    async def download_request(self, request: Request) -> Response:
        domain = request.url.removeprefix("dns://").rstrip("/")
        t0 = time.perf_counter()
        lookup = await lookup_site(self.engine, domain, self.shared)
        return DnsResponse(
            url=request.url, request=request, lookup=lookup,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
        )

    async def close(self) -> None:
        stats = self._crawler.stats
        for key, value in asdict(self.engine.stats).items():
            stats.set_value(f"dns/{key}", value)
        stats.set_value("dns/shared_hosts", len(self.shared))
        await self.engine.close()
