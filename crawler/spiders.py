"""The sites spider: DNS for every site of the list, then (unless DNS-only) its home page, and
DNS for the hosts the home pages load resources from — all in one Scrapy run.

DNS questions all go to the resolver, not to the sites, so they need no per-site politeness;
they travel as ``dns://batch/N`` requests of ``DNS_BATCH_SITES`` sites each, which amortises
Scrapy's own per-request cost (about 1 ms of CPU a request, against about 0.4 ms for a whole
site's DNS lookups). Home pages are ordinary ``https://`` requests (``http://`` after a failed
https attempt), one per site, subject to robots.txt, redirects and per-host politeness; the
resource hosts they reveal are looked up once per crawl in ``dns://hosts/N`` batches.

Every site ends with exactly one DNS outcome and, with HTTP, exactly one page outcome: a batch
or a page request that fails still yields its outcome as data. Requests are produced lazily
from the list; ``dont_filter`` skips Scrapy's fingerprint set (the list is de-duplicated).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from twisted.python.failure import Failure

from crawler.pages import FALLBACK, NO_ADDRESS, PageResult, classify_resources, failure_status, home_target

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

#: priority of page requests over DNS batches: pages already started drain first, so the
#: number of sites in flight stays bounded by the concurrency, not by the list
PAGE_PRIORITY = 10
HOSTS_PRIORITY = 5
#: meta of every DNS request: no robots.txt, its own download slot, no AutoThrottle delay
DNS_META = {"dont_obey_robotstxt": True, "download_slot": "dns", "autothrottle_dont_adjust_delay": True}


@dataclass(frozen=True, slots=True)
class FailedSite:
    """A site whose lookup raised instead of returning statuses (a bug, kept as data)."""

    domain: str
    status: str
    results: tuple[Any, ...] = ()
    error: str = ""


def batches(domains: Iterable[str], size: int) -> Iterable[list[str]]:
    """Consecutive batches of ``size`` domains (the last one may be shorter)."""
    it = iter(domains)
    while batch := list(islice(it, size)):
        yield batch


class SitesSpider(scrapy.Spider):
    """:param http: fetch home pages (False: a DNS-only crawl).
    :param www: how to pick a site's home-page host (:data:`crawler.pages.WWW_MODES`).
    :param pages: sites whose DNS is already stored but whose page is not (a resumed crawl):
        ``(domain, host, address)`` to fetch without asking DNS again (host None: no address).
    :param hosts_done: resource hosts already looked up (a resumed crawl).
    :param hosts_todo: resource hosts found but not yet looked up (a resumed crawl).
    :param ns_hosts_done: name-server and mail hosts already looked up (a resumed crawl; read
        by :class:`crawler.handlers.DnsDownloadHandler` when the spider opens).
    """

    name = "sites"

    def __init__(self, domains: Iterable[str], writer: Any = None, batch_sites: int = 25, *,
                 http: bool = False, www: str = "auto",
                 pages: Iterable[tuple[str, str | None, str | None]] = (), hosts_done: Iterable[str] = (),
                 hosts_todo: Iterable[str] = (), ns_hosts_done: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.domains = domains
        self.writer = writer  # crawler.store.BatchWriter, fed by crawler.pipelines
        self.batch_sites = batch_sites
        self.http = http
        self.www = www
        self.resume_pages = pages
        self.ns_hosts_done = ns_hosts_done
        self.hosts_seen: set[str] = set(hosts_done)
        self.hosts_pending: list[str] = [h for h in dict.fromkeys(hosts_todo) if h not in self.hosts_seen]
        self.hosts_seen.update(self.hosts_pending)  # looked up when the spider first goes idle
        self._host_batches = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SitesSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for domain, host, address in self.resume_pages:
            if host is None or address is None:
                yield {"page": PageResult(domain, NO_ADDRESS, error="neither apex nor www has an address")}
            else:
                yield self._page_request(f"https://{host}/", domain, {host: address}, [], time.time())
        for i, batch in enumerate(batches(self.domains, self.batch_sites)):
            yield scrapy.Request(
                f"dns://batch/{i}", callback=self.parse, errback=self.failed, dont_filter=True,
                meta={"domains": batch, **DNS_META},
            )

    # -- DNS of the list's sites ----------------------------------------------------------

    def parse(self, response: Any) -> Iterable[Any]:
        yield {"lookups": response.lookups, "elapsed_ms": response.elapsed_ms}
        if self.http:
            for lookup in response.lookups:
                yield from self.page_requests(lookup.domain, lookup.results)

    def failed(self, failure: Failure) -> Iterable[Any]:
        request = getattr(failure, "request", None)
        domains: Sequence[str] = request.meta["domains"] if request is not None else ()
        self.logger.warning("DNS batch of %d sites failed: %s", len(domains), failure.getErrorMessage())
        lookups = [FailedSite(d, "ERROR", error=failure.getErrorMessage()) for d in domains]
        yield {"lookups": lookups, "elapsed_ms": [0.0] * len(lookups)}
        if self.http:
            for d in domains:
                yield {"page": PageResult(d, NO_ADDRESS, error="DNS batch failed")}

    # -- home pages -------------------------------------------------------------------------

    def page_requests(self, domain: str, results: Sequence[Any]) -> Iterable[Any]:
        """The site's first page request, or its ``NO_ADDRESS`` outcome."""
        target = home_target(domain, results, self.www)
        if target is None:
            yield {"page": PageResult(domain, NO_ADDRESS, error="neither apex nor www has an address")}
            return
        host, address = target
        yield self._page_request(f"https://{host}/", domain, {host: address}, [], time.time())

    def _page_request(self, url: str, domain: str, addresses: dict[str, str], hops: list[Any],
                      started: float) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.page, errback=self.page_failed, dont_filter=True, priority=PAGE_PRIORITY,
            meta={"site": domain, "addresses": addresses, "hops": hops, "start_url": url, "started": started},
        )

    def page(self, response: Any) -> Iterable[Any]:
        meta = response.meta
        domain, hops = meta["site"], meta.get("hops") or []
        resources: list[tuple[str, str, int, bool]] = []
        final = hops[-1] if hops else None
        if final is not None and final.http_status == 200 and final.body:
            from crawler.http import resource_hosts

            ctype = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
            resources = classify_resources(resource_hosts(final.body, response.url, ctype), domain)
        for hop in hops:
            hop.body = b""
        yield {"page": PageResult(domain, "OK", meta.get("first_url", meta["start_url"]), hops, resources,
                                  elapsed_ms=_ms_since(meta.get("started")))}
        for host, _, _, third in resources:
            if third:
                yield from self._want_host(host)

    def page_failed(self, failure: Failure) -> Iterable[Any]:
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        domain, hops = meta["site"], meta.get("hops") or []
        status, error = failure_status(failure.value or Exception(failure.getErrorMessage()))
        for hop in hops:
            hop.body = b""
        first = meta.get("first_url", meta["start_url"])
        if (status in FALLBACK and request.url.startswith("https://") and len(hops) == 1
                and not meta.get("redirect_times")):
            host = hops[0].host
            retry = self._page_request(f"http://{host}/", domain, dict(meta.get("addresses") or {}), hops,
                                       meta.get("started") or time.time())
            retry.meta["first_url"] = first
            yield retry
            return
        yield {"page": PageResult(domain, status, first, hops, [], error, _ms_since(meta.get("started")))}

    # -- resource hosts ---------------------------------------------------------------------

    def _want_host(self, host: str) -> Iterable[Any]:
        """Queue ``host`` for a lookup once per crawl; yield a batch request when one is full."""
        if host in self.hosts_seen:
            return
        self.hosts_seen.add(host)
        self.hosts_pending.append(host)
        if len(self.hosts_pending) >= self.batch_sites:
            yield self._hosts_request()

    def _hosts_request(self) -> scrapy.Request:
        hosts, self.hosts_pending = self.hosts_pending, []
        self._host_batches += 1
        return scrapy.Request(
            f"dns://hosts/{self._host_batches}", callback=self.parse_hosts, errback=self.hosts_failed,
            dont_filter=True, priority=HOSTS_PRIORITY, meta={"hosts": hosts, **DNS_META},
        )

    def parse_hosts(self, response: Any) -> Iterable[dict[str, Any]]:
        yield {"hosts": response.lookups}

    def hosts_failed(self, failure: Failure) -> Iterable[dict[str, Any]]:
        request = getattr(failure, "request", None)
        hosts: Sequence[str] = request.meta["hosts"] if request is not None else ()
        self.logger.warning("DNS batch of %d resource hosts failed: %s", len(hosts), failure.getErrorMessage())
        yield {"hosts": [FailedSite(h, "ERROR", error=failure.getErrorMessage()) for h in hosts]}

    def idle(self) -> None:
        """Look up the last, partial batch of resource hosts before the spider closes."""
        if self.hosts_pending:
            assert self.crawler.engine is not None
            self.crawler.engine.crawl(self._hosts_request())
            raise DontCloseSpider


def _ms_since(started: float | None) -> float:
    return round((time.time() - started) * 1000, 3) if started else 0.0


class QueueSitesSpider(SitesSpider):
    """The distributed worker's spider: its batches come from the scrapy-redis queue.

    It starts no requests of its own; the scrapy-redis scheduler (see
    :data:`crawler.settings.DISTRIBUTED`) hands it the coordinator's ``dns://batch/N``
    requests. When Scrapy finds it idle it stays open until ``finished()`` (a plain function
    from :mod:`crawler.distributed`) says the coordinator has queued the whole snapshot.
    """

    def __init__(self, writer: Any = None, finished: Callable[[], bool] | None = None,
                 batch_sites: int = 25, **kwargs: Any) -> None:
        super().__init__(domains=(), writer=writer, batch_sites=batch_sites, **kwargs)
        self.finished = finished or (lambda: True)

    async def start(self) -> AsyncIterator[Any]:
        return
        yield  # an async generator that yields nothing

    def idle(self) -> None:
        """Keep the spider open while the coordinator may still queue batches."""
        super().idle()
        if not self.finished():
            raise DontCloseSpider
