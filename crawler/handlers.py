"""Scrapy download handlers: thin adapters around the project's plain async functions.

* ``dns://`` — :class:`DnsDownloadHandler`. A request carries a batch of sites in
  ``meta["domains"]`` (see :mod:`crawler.spiders`) and gets them back, in order, as
  ``response.lookups`` (:class:`~crawler.dns.site.SiteLookup`) with ``response.elapsed_ms``;
  a request with ``meta["hosts"]`` gets those hosts' A/AAAA lookups
  (:class:`~crawler.dns.hosts.HostLookup`).
* ``http://`` and ``https://`` — :class:`HttpDownloadHandler`: one exchange per request
  through :func:`crawler.http.fetch`, to the address *our* DNS gave (never the system
  resolver), checked by :func:`crawler.http.blocked_reason` before any connection. In lab mode
  every connection goes to the lab endpoint on 127.0.0.1 while the DNS address is what gets
  recorded. Redirects, robots.txt and politeness stay with Scrapy's middlewares.

One :class:`~crawler.dns.engine.DnsEngine` (on the crawler object) serves both handlers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from crawler.dns.engine import DnsEngine
from crawler.dns.hosts import addresses_of, ip_literal, lookup_host
from crawler.dns.site import SharedLookups, lookup_site
from crawler.http import Hop, fetch, tls_policy

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class DnsResponse(Response):
    """A response whose payload is a batch of DNS lookups, not bytes."""

    def __init__(self, *args: Any, lookups: list[Any], elapsed_ms: list[float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lookups = lookups
        self.elapsed_ms = elapsed_ms


class _Shared:
    """The crawl's DNS engine and name-server cache, shared by the handlers, closed once."""

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
        self.lookups = SharedLookups(s.getint("DNS_SHARED_HOSTS") or None)
        self.users = 0
        crawler.stats.set_value("dns/engine", "multiplexed-udp")

    @classmethod
    def of(cls, crawler: Crawler) -> _Shared:
        shared: _Shared | None = getattr(crawler, "_chokepoints_dns", None)
        if shared is None:
            shared = cls(crawler)
            crawler._chokepoints_dns = shared  # type: ignore[attr-defined]
        shared.users += 1
        return shared

    async def release(self, crawler: Crawler) -> None:
        self.users -= 1
        if self.users:
            return
        stats = crawler.stats
        for key, value in asdict(self.engine.stats).items():
            stats.set_value(f"dns/{key}", value)
        stats.set_value("dns/shared_hosts", len(self.lookups))
        await self.engine.close()


class DnsDownloadHandler:
    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        self._crawler = crawler
        self.shared = _Shared.of(crawler)
        self.engine = self.shared.engine
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        # Sites looked up at once, across batches: more batches are in flight than this (see
        # DNS_BATCH_OVERLAP), so a batch waiting on one slow site (timeouts and retries) does
        # not keep the healthy sites of other batches from starting.
        self.sites_inflight = crawler.settings.getint("DNS_SITES_INFLIGHT", 0)
        self._slots: asyncio.Semaphore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DnsDownloadHandler:
        return cls(crawler)

    def _opened(self, spider: Any) -> None:
        """A resumed crawl: the hosts its snapshot already looked up are not asked again."""
        self.shared.lookups.preload(getattr(spider, "ns_hosts_done", ()))

    async def _timed(self, domain: str) -> tuple[Any, float]:
        if not self.sites_inflight:
            t0 = time.perf_counter()
            lookup = await lookup_site(self.engine, domain, self.shared.lookups)
            return lookup, (time.perf_counter() - t0) * 1000
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.sites_inflight)
        async with self._slots:
            t0 = time.perf_counter()
            lookup = await lookup_site(self.engine, domain, self.shared.lookups)
            return lookup, (time.perf_counter() - t0) * 1000

    async def download_request(self, request: Request) -> Response:
        hosts = request.meta.get("hosts")
        if hosts is not None:
            found = await asyncio.gather(*(lookup_host(self.engine, h) for h in hosts))
            return DnsResponse(url=request.url, request=request, lookups=list(found),
                               elapsed_ms=[0.0] * len(found))
        done = await asyncio.gather(*(self._timed(d) for d in request.meta["domains"]))
        return DnsResponse(
            url=request.url, request=request,
            lookups=[lookup for lookup, _ in done], elapsed_ms=[ms for _, ms in done],
        )

    async def close(self) -> None:
        await self.shared.release(self._crawler)


class HttpFailed(Exception):
    """A fetch that ended without an HTTP response (its :class:`~crawler.http.Hop` says how)."""

    def __init__(self, hop: Hop) -> None:
        super().__init__(f"{hop.status}: {hop.error or ''}".rstrip(": "))
        self.hop = hop


def failed_hop(url: str, host: str, address: str | None, status: str, error: str, started: float) -> Hop:
    """The hop of a request that never reached a server: ``NO_ADDRESS`` (DNS gave its host no
    address) or ``ERROR`` (the client refused to send it)."""
    return Hop(url=url, host=host, address=address, connected=None, status=status, http_status=None,
               headers=[], body=b"", body_bytes=0, truncated=False, cert=None, tls_version=None,
               elapsed_ms=(time.perf_counter() - started) * 1000, error=error[:300])


class HttpDownloadHandler:
    """``http``/``https`` requests, one exchange each, to the address our DNS gave.

    Settings: ``HTTP_CONNECT_TO`` (lab mode: ``{"http": [host, port], "https": [host, port]}``,
    loopback only), ``HTTP_CAFILE`` (trust only this bundle; default the system store),
    ``HTTP_TLS_SESSIONS`` (TLS sessions kept for resumption, per host name; 0: none; None: as
    :func:`crawler.http.tls.default_sessions`),
    ``HTTP_TIMEOUT``, ``HTTP_CONNECT_TIMEOUT``, ``HTTP_MAX_BODY``, ``USER_AGENT``.
    A request's ``meta["addresses"]`` (``{host: address}``) saves a lookup; for a site's
    request (``meta["site"]``) every hop is appended to ``meta["hops"]``.
    """

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self._crawler = crawler
        self.shared = _Shared.of(crawler)
        connect = s.getdict("HTTP_CONNECT_TO")
        self.connect_to = {k: (str(v[0]), int(v[1])) for k, v in connect.items()}
        for host, _ in self.connect_to.values():
            if not ipaddress.ip_address(host).is_loopback:
                raise ValueError(f"HTTP_CONNECT_TO must be a loopback address, not {host}")
        cafile = s.get("HTTP_CAFILE")
        sessions = s.get("HTTP_TLS_SESSIONS")
        self.tls = tls_policy(Path(cafile) if cafile else None,
                              max_sessions=None if sessions is None else int(sessions))
        self.timeout = s.getfloat("HTTP_TIMEOUT", 10.0)
        self.connect_timeout = s.getfloat("HTTP_CONNECT_TIMEOUT", 5.0)
        self.max_body = s.getint("HTTP_MAX_BODY", 2_000_000)
        self.user_agent = s.get("USER_AGENT")
        self._addresses: OrderedDict[str, tuple[str | None, str]] = OrderedDict()
        self._max_cached = 50_000

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HttpDownloadHandler:
        return cls(crawler)

    async def resolve(self, host: str) -> tuple[str | None, str]:
        """``(address or None, DNS status)`` of ``host`` through the crawl's engine (cached)."""
        literal = ip_literal(host)
        if literal is not None:
            return literal, "LITERAL"
        hit = self._addresses.get(host)
        if hit is not None:
            self._addresses.move_to_end(host)
            return hit
        lookup = await lookup_host(self.shared.engine, host)
        found = addresses_of(lookup.results, host)
        result = (found[0] if found else None, str(lookup.status))
        self._addresses[host] = result
        if len(self._addresses) > self._max_cached:
            self._addresses.popitem(last=False)
        return result

    async def download_request(self, request: Request) -> Response:
        started = time.perf_counter()
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        address = (request.meta.get("addresses") or {}).get(host)
        status = "GIVEN"
        if address is None:
            address, status = await self.resolve(host)
        if address is None:
            hop = failed_hop(request.url, host, None, "NO_ADDRESS", f"no address: {status}", started)
        else:
            headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in request.headers.items()}
            if self.user_agent:
                headers["User-Agent"] = self.user_agent
            try:
                hop = await fetch(
                    request.url, address=address, connect_to=self.connect_to.get(parts.scheme), tls=self.tls,
                    timeout=self.timeout, connect_timeout=self.connect_timeout, max_body=self.max_body,
                    request_headers=headers,
                )
            except ValueError as exc:  # a URL or header the client cannot send (from a page or redirect)
                hop = failed_hop(request.url, host, address, "ERROR", f"not sent: {exc}", started)
        if "site" in request.meta:
            request.meta["hops"] = [*request.meta.get("hops", ()), hop]
        if hop.status != "OK" or hop.http_status is None:
            if "site" not in request.meta and parts.path == "/robots.txt":
                # robots.txt unreachable: Scrapy then allows the host (as crawlers do); an
                # IgnoreRequest says so without an error log and traceback for every such host
                raise IgnoreRequest(f"robots.txt not fetched: {hop.status}")
            raise HttpFailed(hop)
        out = Headers()
        for name, value in hop.headers:
            out.appendlist(name, value.encode("latin-1"))  # the bytes as received (fetch decodes latin-1)
        cls = responsetypes.from_args(headers=out, url=request.url, body=hop.body)
        return cls(url=request.url, status=hop.http_status, headers=out, body=hop.body, request=request,
                   ip_address=ipaddress.ip_address(address) if address else None, protocol="HTTP/1.1",
                   flags=["truncated"] if hop.truncated else None)

    async def close(self) -> None:
        await self.shared.release(self._crawler)
