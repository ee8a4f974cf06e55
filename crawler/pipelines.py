"""Item pipeline: hand each result to the crawl's single writer (:class:`BatchWriter` or a
distributed worker's :class:`~crawler.shards.ShardWriter`).

Items are dicts of one of three kinds: ``{"lookups", "elapsed_ms"}`` (a batch of sites' DNS),
``{"page"}`` (one site's home-page result) and ``{"hosts"}`` (resource hosts' DNS). A writer
may carry a ``done`` filter (a resumed crawl): results it already holds are dropped, so no
site is stored twice.

The writer travels as the spider's ``writer`` attribute (Scrapy deep-copies settings, and a
database connection cannot be copied).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.store import BatchWriter


class StoragePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: BatchWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        self.writer = self.crawler.spider.writer  # type: ignore[union-attr]

    def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        writer = self.writer
        assert writer is not None
        if "page" in item:
            writer.add_page(item["page"])
        elif "hosts" in item:
            writer.add_hosts(item["hosts"])
        else:
            for lookup, ms in zip(item["lookups"], item["elapsed_ms"], strict=True):
                writer.add(lookup, ms)
        return item

    def close_spider(self, spider: Any = None) -> None:
        if self.writer is not None:
            self.writer.flush()
