"""The RDAP client: an address -> the RIR's answer for its network, as a result with a status.

An address goes to the RIR that the bundled IANA bootstrap names (or to ``base_url`` when one
is configured), through a token bucket per server. The client only ever connects to the
configured servers (redirects elsewhere are refused) and makes no DNS query of its own: the
hosts it connects to are the configured ones.
"""

from __future__ import annotations

import ipaddress
import logging
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crawler.rdap.bootstrap import Bootstrap, Rir, bundled
from crawler.rdap.config import Origin, RdapConfig, origin_of
from crawler.rdap.http import build_opener, fetch_json
from crawler.rdap.parse import IPAddress, MalformedResponse, RdapNetwork, parse_network
from crawler.rdap.ratelimit import TokenBucket
from crawler.rdap.status import RdapStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Route:
    """Where an address is asked: its RIR (from the bootstrap) and the server (``base_url`` or the RIR's)."""

    rir: Rir | None
    base_url: str
    origin: Origin

    def url(self, address: IPAddress) -> str:
        return f"{self.base_url}ip/{address}"


@dataclass(frozen=True, slots=True)
class RdapResult:
    """One lookup's outcome: ``network`` is set exactly when ``status`` is OK."""

    ip: str
    family: int
    ip_num: int
    rir: Rir | None
    server: str
    status: str
    network: RdapNetwork | None = None
    error: str | None = None
    raw: Any = None
    requests: int = 0
    elapsed_ms: float = 0.0
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    @property
    def start_num(self) -> int:
        """First address the result covers (the asked address alone for a failure)."""
        return self.network.start_num if self.network else self.ip_num

    @property
    def end_num(self) -> int:
        """Last address the result covers."""
        return self.network.end_num if self.network else self.ip_num


class RdapClient:
    """Asks RDAP servers for the networks of addresses; thread-safe.

    :param config: servers, rates and limits (checked here: :class:`RdapConfigError`).
    :param bootstrap: address -> RIR (default: the bundled IANA copy).
    :param opener: a urllib opener (default: no proxies, no automatic redirects).
    :param clock: monotonic seconds, for the rate limiters.
    :param sleep: how to wait (rate limits, Retry-After).
    :param wall: the current UTC time (HTTP-date Retry-After, ``fetched_at``).
    """

    def __init__(
        self,
        config: RdapConfig | None = None,
        *,
        bootstrap: Bootstrap | None = None,
        opener: urllib.request.OpenerDirector | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config or RdapConfig()
        self.config.check()
        self.bootstrap = bootstrap or bundled()
        self._opener = opener or build_opener()
        self._clock = clock
        self._wall = wall
        self._routes: dict[Rir | None, Route] = {
            rir: Route(rir, url, origin_of(url)) for rir, url in self.config.base_urls().items()
        }
        self._buckets = {
            route.origin: TokenBucket(self.config.rate_for(route.origin), self.config.burst, clock=clock, sleep=sleep)
            for route in self._routes.values()
        }

    @property
    def origins(self) -> frozenset[Origin]:
        """The servers this client may connect to."""
        return frozenset(self._buckets)

    def route(self, address: str | IPAddress) -> Route | None:
        """Where ``address`` is asked, or None when no RIR serves it (reserved space)."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        rir = self.bootstrap.rir_for(ip)
        if rir is None:  # reserved or IANA space: no RIR holds it, not even behind base_url
            return None
        if None in self._routes:
            only = self._routes[None]
            return Route(rir, only.base_url, only.origin)
        return self._routes.get(rir)

    def lookup(self, address: str) -> RdapResult:
        """Ask for the network of ``address``; every network outcome is a status, not an exception.

        :raises ValueError: ``address`` is not an IP address, or no server serves it
            (check :meth:`route` first).
        """
        ip = ipaddress.ip_address(address)
        route = self.route(ip)
        if route is None:
            raise ValueError(f"no RDAP server for {ip}")
        t0 = self._clock()
        fetched = fetch_json(
            route.url(ip),
            config=self.config,
            opener=self._opener,
            acquire=self._acquire,
            defer=self._defer,
            allowed=self._buckets.__contains__,
            wall=self._wall,
        )
        elapsed_ms = (self._clock() - t0) * 1000.0
        fetched_at = self._wall().astimezone(UTC).replace(tzinfo=None)

        def result(status: str, network: RdapNetwork | None = None, error: str | None = None) -> RdapResult:
            return RdapResult(
                ip=str(ip),
                family=ip.version,
                ip_num=int(ip),
                rir=route.rir,
                server=route.base_url,
                status=status,
                network=network,
                error=error,
                raw=fetched.data if network is not None else None,
                requests=fetched.requests,
                elapsed_ms=elapsed_ms,
                fetched_at=fetched_at,
            )

        if fetched.status != RdapStatus.OK:
            logger.debug("RDAP %s: %s (%s)", ip, fetched.status, fetched.error)
            return result(fetched.status, error=fetched.error)
        try:
            network = parse_network(fetched.data, ip)
        except MalformedResponse as exc:
            logger.debug("RDAP %s: malformed (%s)", ip, exc)
            return result(RdapStatus.MALFORMED, error=str(exc))
        return result(RdapStatus.OK, network=network)

    def _acquire(self, origin: Origin) -> float:
        return self._buckets[origin].acquire()

    def _defer(self, origin: Origin, seconds: float) -> None:
        self._buckets[origin].defer(seconds)
