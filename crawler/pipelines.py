"""Item pipeline: hand each site's lookup to the crawl's single :class:`BatchWriter`.

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
        assert self.writer is not None
        for lookup, ms in zip(item["lookups"], item["elapsed_ms"], strict=True):
            self.writer.add(lookup, ms)
        return item

    def close_spider(self, spider: Any = None) -> None:
        if self.writer is not None:
            self.writer.flush()
