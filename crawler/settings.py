"""Scrapy settings for a chokepoints crawl: the defaults in one place.

DNS work runs as ``dns://<site>`` requests through :mod:`crawler.handlers`; later stages
(HTTP fetching, resume, distribution) plug into the same engine. Settings read by the project:

* ``DNS_RESOLVERS`` — list of ``(host, port)`` to query (required)
* ``DNS_TIMEOUT`` — seconds per query attempt
* ``DNS_RETRIES`` — extra attempts after a timeout
* ``DNS_MAX_INFLIGHT`` — DNS queries in flight at once, across all sites
"""

from __future__ import annotations

from typing import Any

BOT_NAME = "chokepoints"

DEFAULTS: dict[str, Any] = {
    "BOT_NAME": BOT_NAME,
    "DOWNLOAD_HANDLERS": {"dns": "crawler.handlers.DnsDownloadHandler"},
    "ITEM_PIPELINES": {"crawler.pipelines.StoragePipeline": 500},
    # Sites in flight; each runs ~10 queries, so the DNS engine sees ~10x this many.
    "CONCURRENT_REQUESTS": 300,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOAD_DELAY": 0,
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
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
}
