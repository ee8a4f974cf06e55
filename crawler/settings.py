"""Scrapy settings for a chokepoints crawl: the defaults in one place.

DNS work runs as ``dns://<site>`` requests through :mod:`crawler.handlers`; later stages
(HTTP fetching, resume, distribution) plug into the same engine. Settings read by the project:

* ``DNS_RESOLVERS`` — list of ``(host, port)`` to query (required)
* ``DNS_TIMEOUT`` — seconds per query attempt
* ``DNS_RETRIES`` — extra attempts after a timeout
* ``DNS_MAX_INFLIGHT`` — DNS queries in flight at once, across all sites
* ``DNS_BATCH_SITES`` — sites per ``dns://`` request (read by the spider)

A distributed worker adds :data:`DISTRIBUTED` (scrapy-redis: ``REDIS_URL``, ``SCHEDULER_*``).
"""

from __future__ import annotations

from typing import Any

BOT_NAME = "chokepoints"

DEFAULTS: dict[str, Any] = {
    "BOT_NAME": BOT_NAME,
    "DOWNLOAD_HANDLERS": {"dns": "crawler.handlers.DnsDownloadHandler"},
    "ITEM_PIPELINES": {"crawler.pipelines.StoragePipeline": 500},
    # DNS requests in flight, each a batch of DNS_BATCH_SITES sites (set from --concurrency);
    # a site runs ~8 queries, so the DNS engine sees ~8x the sites in flight.
    "CONCURRENT_REQUESTS": 12,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1000,
    "DOWNLOAD_DELAY": 0,
    # Each response yields one item; Scrapy starts CONCURRENT_ITEMS worker tasks per response
    # to process its output, so the default of 100 cost ~100 asyncio tasks a site (profiled).
    "CONCURRENT_ITEMS": 1,
    "DOWNLOAD_TIMEOUT": 60,
    # DNS requests need no robots.txt, cookies, redirects or retries at the HTTP level:
    # the DNS engine retries by itself and every outcome is data.
    "ROBOTSTXT_OBEY": False,
    "COOKIES_ENABLED": False,
    "RETRY_ENABLED": False,
    "REDIRECT_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "LOGSTATS_INTERVAL": 0,
    "DNS_TIMEOUT": 2.0,
    "DNS_RETRIES": 2,
    "DNS_MAX_INFLIGHT": 2000,
    "DNS_BATCH_SITES": 25,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
}

# Added to DEFAULTS for a distributed worker (crawler.distributed): the scrapy-redis scheduler
# and duplicate filter share one queue among all workers. The queue persists when a worker
# closes (others may still be draining it); the coordinator deletes the run's keys at the end.
# REDIS_URL, SCHEDULER_QUEUE_KEY and SCHEDULER_DUPEFILTER_KEY are set per run.
DISTRIBUTED: dict[str, Any] = {
    "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
    "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
    "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.FifoQueue",
    "SCHEDULER_PERSIST": True,
    # 0: pop without blocking (a blocking pop would stall the reactor).
    "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
}
