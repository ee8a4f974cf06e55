"""The attribution stage's RDAP step: make sure every address other evidence cannot name has a
cached network, and read the answers back per address.

An address needs naming when its origin AS is unknown (``ip_origins.asn`` is null) or maps to
no registry provider (it would become ``as<N>``). Addresses are grouped by the server that
answers them; each server gets one worker thread that asks its addresses in ascending order,
skipping those inside a network it has already learned in this run, so a /16 is asked once.
Threads, not asyncio: each server is held to about one request a second, so the only
concurrency worth having is one blocking request per server at a time; the single DuckDB
connection is only touched by the calling thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from chokepoints import db
from crawler import registry as registry_mod
from crawler.rdap import cache
from crawler.rdap.cache import Pending
from crawler.rdap.client import RdapClient, RdapResult
from crawler.rdap.config import Origin
from crawler.rdap.status import RdapStatus
from crawler.registry import Registry

logger = logging.getLogger(__name__)

FLUSH_EVERY = 100


@dataclass(frozen=True, slots=True)
class RdapRow:
    """The cached RDAP answer covering one address of a snapshot."""

    ip: str
    rir: str | None
    handle: str | None
    cidr: str | None
    name: str | None
    org: str | None
    country: str | None
    status: str
    fetched_at: datetime


class _Budget:
    """At most ``limit`` lookups across all workers (None: no limit)."""

    def __init__(self, limit: int | None) -> None:
        self._left = limit
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left is None:
                return True
            if self._left <= 0:
                return False
            self._left -= 1
            return True


class _Done:
    """A worker's end marker (carrying its exception, if it died)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def needs_naming(
    todo: Sequence[Pending], registry: Registry, named_asns: Collection[int] = (), *, unrouted_only: bool = False
) -> list[Pending]:
    """The addresses whose origin AS is unknown, or names no registry provider and has no AS
    name (``named_asns``: ASes an AS-names file already names); ``unrouted_only``: the first."""
    return [
        p for p in todo
        if p.asn is None or (not unrouted_only and registry.provider_for_asn(p.asn) is None
                             and p.asn not in named_asns)
    ]


def _worker(
    client: RdapClient,
    addresses: Sequence[Pending],
    budget: _Budget,
    stop: threading.Event,
    out: queue.Queue[RdapResult | _Done],
) -> None:
    """Ask for each address not inside a network this worker learned; addresses ascend."""
    learned: list[tuple[int, int]] = []  # (start, end) of OK networks that may still cover
    family = 0
    try:
        for p in addresses:
            if stop.is_set():
                break
            if p.family != family:
                family, learned = p.family, []
            learned = [(s, e) for s, e in learned if e >= p.ip_num]
            if any(s <= p.ip_num for s, _ in learned):
                continue
            if not budget.take():
                break
            result = client.lookup(p.ip)
            if result.status == RdapStatus.OK:
                learned.append((result.start_num, result.end_num))
            out.put(result)
    except BaseException as exc:  # handed to the calling thread, which re-raises it
        out.put(_Done(exc))
        return
    out.put(_Done())


def name_networks(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    client: RdapClient,
    *,
    limit: int | None = None,
    registry: Registry | None = None,
    named_asns: Collection[int] = (),
    unrouted_only: bool = False,
) -> int:
    """Make sure every address of the snapshot that needs naming has a cached RDAP network.

    Addresses already inside a cached network (or with a cached final failure) are not asked;
    transient failures cached by an earlier run are asked again. Results are stored in batches
    as they arrive.

    :param con: a writable connection (migrated).
    :param snapshot_id: whose ``ip_origins`` to name.
    :param client: the RDAP client (its configuration decides the servers).
    :param limit: at most this many lookups in this call.
    :param registry: the provider registry (default :func:`crawler.registry.load`).
    :param named_asns: ASes that need no RDAP name (an AS-names file names them).
    :param unrouted_only: ask only for addresses no route announces (their attribution needs
        RDAP; the others only their display name).
    :returns: the number of lookups made (each stores one row, except a transient failure
        that a network learned in the same batch already covers).
    """
    reg = registry or registry_mod.load()
    skip = {*reg.asns(), *named_asns}  # narrowed in SQL; needs_naming states the rule
    todo = needs_naming(cache.pending(con, snapshot_id, unrouted_only=unrouted_only, skip_asns=skip), reg,
                        named_asns, unrouted_only=unrouted_only)
    by_server: dict[Origin, list[Pending]] = defaultdict(list)
    unserved = 0
    for p in todo:
        route = client.route(p.ip)
        if route is None:
            unserved += 1
        else:
            by_server[route.origin].append(p)
    if unserved:
        logger.info("RDAP: %d addresses in reserved space, no server to ask", unserved)
    if not by_server:
        return 0
    logger.info("RDAP: %d addresses to name across %d servers", len(todo) - unserved, len(by_server))
    out: queue.Queue[RdapResult | _Done] = queue.Queue()
    stop = threading.Event()
    budget = _Budget(limit)
    workers = [
        threading.Thread(
            target=_worker, args=(client, addrs, budget, stop, out), name=f"rdap-{origin.host}", daemon=True
        )
        for origin, addrs in by_server.items()
    ]
    for t in workers:
        t.start()
    asked, written, running, batch = 0, 0, len(workers), []
    error: BaseException | None = None
    try:
        while running:
            item = out.get()
            if isinstance(item, _Done):
                running -= 1
                if item.error is not None and error is None:
                    error = item.error
                    stop.set()
                continue
            asked += 1
            batch.append(item)
            if len(batch) >= FLUSH_EVERY:
                written += cache.store(con, batch, snapshot_id)
                batch = []
        written += cache.store(con, batch, snapshot_id)
    finally:
        stop.set()
        for t in workers:
            t.join()
    if error is not None:
        raise error
    logger.info("RDAP: %d lookups, %d rows stored for snapshot %d", asked, written, snapshot_id)
    return asked


def rdap_rows(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> list[RdapRow]:
    """Per address of the snapshot covered by a cached row: its best RDAP answer.

    The best row is a network (OK) before a final failure before a transient one, then the
    narrowest range, then the newest. Addresses no row covers are left out.
    """
    rows = db.fetch_dicts(
        con, db.sql_text("crawler.rdap", "rdap_rows.sql"), {"sid": snapshot_id, "retryable": cache.retryable_list()}
    )
    return [RdapRow(**row) for row in rows]
