"""A crawl across many processes and machines: one coordinator, any number of workers, one Redis.

The **coordinator** (:func:`coordinate`) loads the list and creates the snapshot as
:func:`crawler.run.measure` does, pushes the list's ``dns://batch/N`` requests (site lists in
their meta) into a scrapy-redis queue for a fresh run id, marks the run fully queued, and
publishes it. **Workers** (:func:`run_worker`) wait for a published run, drain its queue with
the scrapy-redis scheduler (a Redis list pop hands each batch to one worker; the duplicate
filter stops a batch from being queued twice), write Parquet shards (:mod:`crawler.shards`) into
a shared folder, add each shard's site count to a Redis counter, and exit once the queue is
empty and the run is fully queued. When the counter reaches the list's size the coordinator
ingests the shards into DuckDB and runs the rest of the pipeline (origins, RDAP, ranges,
attribution). Workers never open the database.

Redis keys, under ``<prefix>`` (default ``chokepoints``)::

    <prefix>:current            JSON {run, snapshot_id, settings}: the run workers join
    <prefix>:<run>:requests     the scrapy-redis queue (FIFO)
    <prefix>:<run>:dupefilter   the scrapy-redis duplicate filter
    <prefix>:<run>:queued       set once every batch is queued
    <prefix>:<run>:sites_done   sites written to shards so far
    <prefix>:<run>:workers      ids of the workers that joined
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import redis

from chokepoints.config import loopback_only
from chokepoints.errors import UserError
from crawler.shards import ShardWriter, ingest_shards

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "chokepoints"


@dataclass(frozen=True, slots=True)
class RunKeys:
    """The Redis keys of one distributed run."""

    prefix: str
    run: str

    @property
    def current(self) -> str:
        return f"{self.prefix}:current"

    def key(self, name: str) -> str:
        return f"{self.prefix}:{self.run}:{name}"

    def all(self) -> list[str]:
        return [self.key(n) for n in ("requests", "dupefilter", "queued", "sites_done", "workers")]


def connect(url: str) -> redis.Redis:
    """A Redis client for ``url`` (checked to be on loopback when loopback-only is set)."""
    host = urlparse(url).hostname or ""
    if loopback_only() and host not in ("localhost", "127.0.0.1", "::1"):
        raise UserError(f"CHOKEPOINTS_LOOPBACK_ONLY is set: Redis {url} is not on loopback")
    try:
        server: redis.Redis = redis.Redis.from_url(url, decode_responses=True)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise UserError(f"cannot reach Redis at {url}: {exc}") from None
    return server


def scrapy_settings(url: str, keys: RunKeys) -> dict[str, Any]:
    """The scrapy-redis settings that make a crawler consume the run's queue."""
    from crawler.settings import DISTRIBUTED

    return {**DISTRIBUTED, "REDIS_URL": url, "SCHEDULER_QUEUE_KEY": keys.key("requests"),
            "SCHEDULER_DUPEFILTER_KEY": keys.key("dupefilter")}


# -- coordinator ---------------------------------------------------------------------------

def publish(server: redis.Redis, keys: RunKeys, snapshot_id: int, domains: list[str],
            settings: dict[str, Any]) -> int:
    """Queue ``domains`` as ``dns://batch/N`` requests for the run, then publish the run.

    :param settings: what workers must share (resolvers, timeout, retries, batch_sites).
    :returns: the number of batches queued.
    """
    from scrapy_redis.dupefilter import RFPDupeFilter
    from scrapy_redis.queue import FifoQueue

    from crawler.spiders import QueueSitesSpider, batches

    spider = QueueSitesSpider()  # only to name the callbacks in the serialised requests
    queue = FifoQueue(server, spider, keys.key("requests"))
    dupes = RFPDupeFilter(server, keys.key("dupefilter"))
    server.delete(*keys.all())
    queued = 0
    for request in _requests(spider, batches(domains, int(settings["batch_sites"]))):
        if not dupes.request_seen(request):
            queue.push(request)
            queued += 1
    server.set(keys.key("queued"), "1")
    server.set(keys.current, json.dumps({"run": keys.run, "snapshot_id": snapshot_id, "settings": settings}))
    logger.info("run %s: %d batches queued for snapshot %d", keys.run, queued, snapshot_id)
    return queued


def _requests(spider: Any, groups: Any) -> Any:
    import scrapy

    from crawler.spiders import DNS_META

    for i, batch in enumerate(groups):
        yield scrapy.Request(f"dns://batch/{i}", callback=spider.parse, errback=spider.failed,
                             meta={"domains": batch, **DNS_META})


def wait_for_shards(server: redis.Redis, keys: RunKeys, total: int, *,
                    progress: Callable[[int], None] | None = None, poll: float = 0.2,
                    stall_timeout: float | None = None) -> None:
    """Block until workers report ``total`` sites written to shards.

    :param stall_timeout: give up (``UserError``) after this many seconds without progress.
    """
    seen, last = 0, time.monotonic()
    while seen < total:
        done = int(server.get(keys.key("sites_done")) or 0)
        if done > seen:
            if progress is not None:
                progress(done - seen)
            seen, last = done, time.monotonic()
        elif stall_timeout is not None and time.monotonic() - last > stall_timeout:
            raise UserError(f"distributed crawl stalled: {seen} of {total} sites in shards after "
                            f"{stall_timeout:.0f} s without progress (are workers running?)")
        else:
            time.sleep(poll)


def coordinate(con: duckdb.DuckDBPyConnection, opts: Any, *, redis_url: str, shards: Path,
               prefix: str = DEFAULT_PREFIX, stall_timeout: float | None = None,
               progress: Any = None) -> Any:
    """Like :func:`crawler.run.measure`, with the DNS work done by workers through Redis.

    :param opts: the :class:`crawler.run.CrawlOptions`.
    :param shards: the folder workers write into (a ``<run>`` subfolder is used).
    :returns: the :class:`crawler.run.CrawlResult`.
    """
    server = connect(redis_url)
    keys = RunKeys(prefix, uuid.uuid4().hex[:12])
    from crawler.run import measure

    return measure(con, opts, progress=progress, crawl=lambda c, sid, domains, advance: _crawl_remote(
        server, keys, sid, domains, opts, shards, advance, stall_timeout, c))


def _crawl_remote(server: redis.Redis, keys: RunKeys, sid: int, domains: list[str], opts: Any,
                  shards: Path, advance: Callable[[int], None] | None, stall_timeout: float | None,
                  con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Queue, wait for the workers, ingest; return stats for the snapshot row."""
    settings = {"resolvers": [f"{h}:{p}" for h, p in opts.resolvers], "timeout": opts.timeout,
                "retries": opts.retries, "max_inflight": opts.max_inflight, "batch_sites": opts.batch_sites}
    t0 = time.perf_counter()
    try:
        batches = publish(server, keys, sid, domains, settings)
        wait_for_shards(server, keys, len(domains), progress=advance, stall_timeout=stall_timeout)
        t_ingest = time.perf_counter()
        counts = ingest_shards(con, Path(shards) / keys.run)
        workers = sorted(str(w) for w in server.smembers(keys.key("workers")))
    finally:
        if server.get(keys.current) and json.loads(str(server.get(keys.current))).get("run") == keys.run:
            server.delete(keys.current)
        server.delete(*keys.all())
    return {"finish_reason": "finished", "distributed/run": keys.run, "distributed/batches": batches,
            "distributed/workers": len(workers), "distributed/worker_ids": ",".join(workers),
            "distributed/ingest_seconds": round(time.perf_counter() - t_ingest, 3),
            "distributed/crawl_seconds": round(t_ingest - t0, 3),
            "rows_written": counts["dns_answers"], "sites_written": counts["site_outcomes"]}


# -- worker --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Assignment:
    """The run a worker joined."""

    keys: RunKeys
    snapshot_id: int
    settings: dict[str, Any]


def join(server: redis.Redis, prefix: str = DEFAULT_PREFIX, *, wait: float = 600.0,
         poll: float = 0.2) -> Assignment:
    """Wait (up to ``wait`` seconds) for a coordinator to publish a run; return it."""
    deadline = time.monotonic() + wait
    while True:
        raw = server.get(f"{prefix}:current")
        if raw:
            data = json.loads(str(raw))
            return Assignment(RunKeys(prefix, data["run"]), int(data["snapshot_id"]), data["settings"])
        if time.monotonic() > deadline:
            raise UserError(f"no coordinator published a run in Redis within {wait:.0f} s")
        time.sleep(poll)


def fully_queued(server: redis.Redis, keys: RunKeys) -> bool:
    """Whether a worker of the run may stop once its queue is empty: every batch is queued, or
    the run is over (the coordinator deletes its keys when done)."""
    if server.get(keys.key("queued")):
        return True
    raw = server.get(keys.current)
    return raw is None or json.loads(str(raw)).get("run") != keys.run


def default_worker_id() -> str:
    """``<host>-<pid>``: unique among the workers of a run."""
    return f"{socket.gethostname()}-{os.getpid()}"


def run_worker(redis_url: str, shards: Path, *, resolvers: list[tuple[str, int]] | None = None,
               concurrency: int = 300, worker_id: str | None = None, prefix: str = DEFAULT_PREFIX,
               wait: float = 600.0, shard_sites: int = 2000) -> dict[str, Any]:
    """Join the published run, crawl batches from its queue into shards until it is drained.

    :param resolvers: DNS servers to use; default: the coordinator's.
    :returns: Scrapy's stats plus ``sites_written``, ``rows_written`` and ``shards``.
    """
    from scrapy.crawler import CrawlerProcess

    from crawler.dns.system import parse_resolver
    from crawler.settings import DEFAULTS
    from crawler.spiders import QueueSitesSpider

    server = connect(redis_url)
    job = join(server, prefix, wait=wait)
    worker = worker_id or default_worker_id()
    resolvers = resolvers or [parse_resolver(r) for r in job.settings["resolvers"]]
    _check_loopback(resolvers)
    server.sadd(job.keys.key("workers"), worker)

    def report(sites: int) -> None:
        server.incrby(job.keys.key("sites_done"), sites)

    writer = ShardWriter(Path(shards) / job.keys.run, job.snapshot_id, worker, batch_sites=shard_sites,
                         on_flush=report)
    batch_sites = int(job.settings["batch_sites"])
    dns_requests = max(1, -(-concurrency // batch_sites))
    settings = {**DEFAULTS, **scrapy_settings(redis_url, job.keys),
                "DNS_RESOLVERS": resolvers, "DNS_TIMEOUT": float(job.settings["timeout"]),
                "DNS_RETRIES": int(job.settings["retries"]),
                "DNS_MAX_INFLIGHT": int(job.settings["max_inflight"]),
                "CONCURRENT_REQUESTS": dns_requests, "DNS_BATCH_SITES": batch_sites,
                "DOWNLOAD_SLOTS": {"dns": {"concurrency": dns_requests, "delay": 0}}}
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(QueueSitesSpider)
    process.crawl(crawler, writer=writer, batch_sites=batch_sites,
                  finished=lambda: fully_queued(server, job.keys))
    process.start()
    if writer.error is not None:
        raise writer.error
    assert crawler.stats is not None
    return {**crawler.stats.get_stats(), "sites_written": writer.sites_written,
            "rows_written": writer.rows_written, "shards": writer.seq, "snapshot_id": job.snapshot_id}


def _check_loopback(resolvers: list[tuple[str, int]]) -> None:
    import ipaddress

    if loopback_only():
        for host, port in resolvers:
            if not ipaddress.ip_address(host).is_loopback:
                raise UserError(f"CHOKEPOINTS_LOOPBACK_ONLY is set: resolver {host}:{port} is not on loopback")
