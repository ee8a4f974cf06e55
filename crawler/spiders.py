"""The sites spider: one ``dns://<site>`` request per list entry, one item per site.

Requests are produced lazily from the list, so a million-site crawl never holds a million
requests; ``dont_filter`` skips Scrapy's fingerprint set (the list is already de-duplicated).
A request that fails in the handler still yields an item with an ``ERROR`` status, so every
site ends with exactly one outcome.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import scrapy
from twisted.python.failure import Failure


@dataclass(frozen=True, slots=True)
class FailedSite:
    """A site whose lookup raised instead of returning statuses (a bug, kept as data)."""

    domain: str
    status: str
    results: tuple[Any, ...] = ()
    error: str = ""


class SitesSpider(scrapy.Spider):
    name = "sites"

    def __init__(self, domains: Iterable[str], writer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.domains = domains
        self.writer = writer  # crawler.store.BatchWriter, fed by crawler.pipelines

    async def start(self) -> AsyncIterator[Any]:
        for domain in self.domains:
            yield scrapy.Request(
                f"dns://{domain}",
                callback=self.parse,
                errback=self.failed,
                dont_filter=True,
                meta={"domain": domain, "dont_obey_robotstxt": True},
            )

    def parse(self, response: Any) -> Iterable[Any]:
        yield {"lookup": response.lookup, "elapsed_ms": response.elapsed_ms}

    def failed(self, failure: Failure) -> Iterable[Any]:
        request = getattr(failure, "request", None)
        domain = request.meta["domain"] if request is not None else "?"
        self.logger.warning("lookup of %s failed: %s", domain, failure.getErrorMessage())
        yield {"lookup": FailedSite(domain, "ERROR", error=failure.getErrorMessage()), "elapsed_ms": 0.0}
