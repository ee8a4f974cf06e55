"""The sites spider: one ``dns://`` request per batch of list entries, one item per batch.

DNS questions all go to the resolver, not to the sites, so they need no per-site politeness;
batching them amortises Scrapy's own per-request cost (measured at about 1 ms of CPU a
request, against about 0.4 ms for a whole site's DNS lookups) over ``DNS_BATCH_SITES`` sites.
Requests are produced lazily from the list; ``dont_filter`` skips Scrapy's fingerprint set (the
list is already de-duplicated). A batch that fails in the handler still yields an ``ERROR``
outcome for each of its sites, so every site ends with exactly one outcome.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


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
    name = "sites"

    def __init__(self, domains: Iterable[str], writer: Any = None, batch_sites: int = 25,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.domains = domains
        self.writer = writer  # crawler.store.BatchWriter, fed by crawler.pipelines
        self.batch_sites = batch_sites

    async def start(self) -> AsyncIterator[Any]:
        for i, batch in enumerate(batches(self.domains, self.batch_sites)):
            yield scrapy.Request(
                f"dns://batch/{i}",
                callback=self.parse,
                errback=self.failed,
                dont_filter=True,
                meta={"domains": batch, "dont_obey_robotstxt": True},
            )

    def parse(self, response: Any) -> Iterable[dict[str, Any]]:
        yield {"lookups": response.lookups, "elapsed_ms": response.elapsed_ms}

    def failed(self, failure: Failure) -> Iterable[dict[str, Any]]:
        request = getattr(failure, "request", None)
        domains: Sequence[str] = request.meta["domains"] if request is not None else ()
        self.logger.warning("DNS batch of %d sites failed: %s", len(domains), failure.getErrorMessage())
        lookups = [FailedSite(d, "ERROR", error=failure.getErrorMessage()) for d in domains]
        yield {"lookups": lookups, "elapsed_ms": [0.0] * len(lookups)}


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

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> QueueSitesSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        return
        yield  # an async generator that yields nothing

    def idle(self) -> None:
        """Keep the spider open while the coordinator may still queue batches."""
        if not self.finished():
            raise DontCloseSpider
