"""Scrapy settings for a chokepoints crawl: the defaults in one place.

DNS work runs as ``dns://batch/N`` requests and home pages as ``https://`` requests, both
through :mod:`crawler.handlers`. Settings read by the project:

* ``DNS_RESOLVERS`` — list of ``(host, port)`` to query (required)
* ``DNS_TIMEOUT`` — seconds per query attempt
* ``DNS_RETRIES`` — extra attempts after a timeout
* ``DNS_MAX_INFLIGHT`` — DNS queries in flight at once, across all sites
* ``DNS_BATCH_SITES`` — sites per ``dns://`` request (read by the spider)
* ``DNS_BATCH_OVERLAP`` — batches in flight per ``--concurrency`` worth of sites
* ``DNS_SITES_INFLIGHT`` — sites looked up at once across batches (0: no bound)
* ``DNS_SHARED_HOSTS`` — name-server and mail-exchanger hosts remembered as asked (least recently
  used forgotten first, so a crawl's memory does not grow with the hosts it meets; a forgotten
  host asked again is stored again, under the site that asked); 0: no bound
* ``HTTP_CONNECT_TO`` — lab mode only: ``{"http": (host, port), "https": (host, port)}`` on loopback
* ``HTTP_CAFILE`` — trust only this CA bundle (the lab's); default the system store
* ``HTTP_TLS_SESSIONS`` — TLS sessions kept, one per host name, so that a host's next connection
  (its home page after its robots.txt) resumes the last one instead of a full handshake; 0: none;
  None: 1,024 where Python's ``ssl`` does not leak them, else none (:func:`crawler.http.tls.default_sessions`)
* ``HTTP_TIMEOUT``, ``HTTP_CONNECT_TIMEOUT`` (seconds), ``HTTP_MAX_BODY`` (bytes kept of a page)

Politeness for home pages comes from Scrapy: robots.txt, ``USER_AGENT`` with a contact URL,
AutoThrottle and at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests per host; DNS batches
have their own download slot (``dns``) outside those limits.

A crawl with home pages adds :data:`WITH_HTTP`; a distributed worker adds :data:`DISTRIBUTED`
(scrapy-redis: ``REDIS_URL``, ``SCHEDULER_*``).
"""

from __future__ import annotations

from typing import Any

BOT_NAME = "chokepoints"
#: where a site's operator learns who crawls them and why (``--contact`` replaces it)
CONTACT_URL = "https://github.com/chokepoints/chokepoints#for-site-operators"


def user_agent(contact: str = CONTACT_URL) -> str:
    """The crawler's user agent: name, version, purpose and a contact URL."""
    from chokepoints import __version__

    return f"chokepoints/{__version__} (web dependency research; +{contact})"


USER_AGENT = user_agent()

DEFAULTS: dict[str, Any] = {
    "BOT_NAME": BOT_NAME,
    "DOWNLOAD_HANDLERS": {
        "dns": "crawler.handlers.DnsDownloadHandler",
        "http": "crawler.handlers.HttpDownloadHandler",
        "https": "crawler.handlers.HttpDownloadHandler",
    },
    "ITEM_PIPELINES": {"crawler.pipelines.StoragePipeline": 500},
    # DNS requests in flight, each a batch of DNS_BATCH_SITES sites (set from --concurrency);
    # a site runs ~8 queries, so the DNS engine sees ~8x the sites in flight.
    "CONCURRENT_REQUESTS": 12,
    # home pages: at most 2 requests at once per host; DNS batches have their own slot
    # (its concurrency is set from --concurrency, like CONCURRENT_REQUESTS)
    "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
    "DOWNLOAD_SLOTS": {"dns": {"concurrency": 12, "delay": 0}},
    "DOWNLOAD_DELAY": 0,
    # Each response yields one item; Scrapy starts CONCURRENT_ITEMS worker tasks per response
    # to process its output, so the default of 100 cost ~100 asyncio tasks a site (profiled).
    "CONCURRENT_ITEMS": 1,
    "DOWNLOAD_TIMEOUT": 60,
    # DNS requests skip robots.txt (meta dont_obey_robotstxt); home pages obey it. No cookies,
    # no retries (every outcome is data; the DNS engine retries by itself), redirects followed
    # up to 10 hops, every status passed to the spider, no Referer sent.
    "ROBOTSTXT_OBEY": True,
    "COOKIES_ENABLED": False,
    "RETRY_ENABLED": False,
    "REDIRECT_ENABLED": True,
    "REDIRECT_MAX_TIMES": 10,
    "METAREFRESH_ENABLED": False,
    "HTTPERROR_ALLOW_ALL": True,
    "COMPRESSION_ENABLED": False,
    "REFERRER_POLICY": "no-referrer",
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.2,
    "AUTOTHROTTLE_MAX_DELAY": 10.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
    "USER_AGENT": USER_AGENT,
    "HTTP_TIMEOUT": 10.0,
    "HTTP_CONNECT_TIMEOUT": 5.0,
    "HTTP_MAX_BODY": 2_000_000,
    # resumed handshakes cost the client about half the CPU of full ones (and the server a signature)
    "HTTP_TLS_SESSIONS": None,
    # Scrapy re-parses a generator callback's source for every response (its cache is keyed by a
    # bound method that dies at once) just to warn about a ``return value``.
    "WARN_ON_GENERATOR_RETURN_VALUE": False,
    # Middlewares with nothing to do here, off: no depth limit, no Referer (REFERRER_POLICY above
    # already sends none), no URL-length filter (only home pages and their redirects are asked for;
    # a hop of any length is stored, and RedirectMiddleware stops after 10),
    # no allowed_domains, no HTTP auth, and no proxy from the environment (every connection goes
    # to the address our DNS engine gave, or to the lab on loopback).
    "SPIDER_MIDDLEWARES": {
        "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
        "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
        "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
        "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
    },
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
        "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
        "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
    },
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "LOGSTATS_INTERVAL": 0,
    "DNS_TIMEOUT": 2.0,
    "DNS_RETRIES": 2,
    "DNS_MAX_INFLIGHT": 2000,
    "DNS_BATCH_SITES": 25,
    # DNS batch requests in flight per --concurrency/DNS_BATCH_SITES; DNS_SITES_INFLIGHT (set
    # from --concurrency) bounds the sites actually being looked up
    "DNS_BATCH_OVERLAP": 16,
    "DNS_SITES_INFLIGHT": 0,
    # ~100 bytes a host: at most ~20 MB, far more hosts than shared ones (providers' name servers)
    "DNS_SHARED_HOSTS": 200_000,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
}

# Added to DEFAULTS for a crawl with home pages: one scheduler queue per priority instead of
# Scrapy's default of one per download slot, i.e. per host (per-host concurrency and delays stay
# with the downloader); those per-host queues, each a directory under JOBDIR, cost a third of
# Scrapy's CPU per request (docs/performance.md). A DNS-only crawl keeps the default: its
# batches all share one slot, and there the default measured as fast or faster (100k lab
# sites: 1,464 vs 1,223 sites/s, one run each, another benchmark sharing the CPU in the second).
WITH_HTTP: dict[str, Any] = {
    "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
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
