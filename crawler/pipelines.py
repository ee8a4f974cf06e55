"""Item pipeline: hand each result to the crawl's single writer (:class:`BatchWriter` or a
distributed worker's :class:`~crawler.shards.ShardWriter`).

Items are dicts of one of three kinds: ``{"lookups", "elapsed_ms"}`` (a batch of sites' DNS),
``{"page"}`` (one site's home-page result) and ``{"hosts"}`` (resource hosts' DNS). A writer
may carry a ``done`` filter (a resumed crawl): results it already holds are dropped, so no
site is stored twice.

A write that fails (a full disk) stops the crawl: the error is kept on the writer as
``error`` (the caller re-raises it once Scrapy has stopped) and the spider is closed, instead
of Scrapy logging a traceback per item and crawling on without the lost batch.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.store import SiteBuffer

logger = logging.getLogger(__name__)


class StoragePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: SiteBuffer | None = None
        self._closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        self.writer = self.crawler.spider.writer  # type: ignore[union-attr]

    def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        writer = self.writer
        assert writer is not None
        if writer.error is not None:
            return item  # the crawl is stopping: nothing more is written
        try:
            if "page" in item:
                writer.add_page(item["page"])
            elif "hosts" in item:
                writer.add_hosts(item["hosts"])
            else:
                for lookup, ms in zip(item["lookups"], item["elapsed_ms"], strict=True):
                    writer.add(lookup, ms)
        except Exception as exc:
            self._failed(exc)
        return item

    def _failed(self, exc: Exception) -> None:
        assert self.writer is not None
        self.writer.error = exc
        logger.error("writing results failed, stopping the crawl: %s", str(exc).splitlines()[0] if str(exc) else exc)
        engine = self.crawler.engine
        if engine is not None:
            self._closing = asyncio.ensure_future(engine.close_spider_async(reason="write_failed"))

    def close_spider(self, spider: Any = None) -> None:
        if self.writer is not None and self.writer.error is None:
            try:
                self.writer.flush()
            except Exception as exc:
                self.writer.error = exc
