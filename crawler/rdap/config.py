"""The RDAP client's settings, checked once: servers per RIR, rates, timeouts, limits.

Reads ``CHOKEPOINTS_LOOPBACK_ONLY`` (through :func:`chokepoints.config.loopback_only`): when
set, every base URL the client would use must be on 127.0.0.1, ::1 or localhost.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

from chokepoints import __version__
from chokepoints.config import loopback_only
from crawler.rdap.bootstrap import DEFAULT_SERVERS, Rir
from crawler.rdap.errors import RdapConfigError

logger = logging.getLogger(__name__)

#: requests/s per RIR: conservative (ARIN and RIPE document limits of a few per second;
#: LACNIC and AFRINIC block sooner)
DEFAULT_RATES: dict[Rir, float] = {
    Rir.ARIN: 1.0,
    Rir.RIPE: 1.0,
    Rir.APNIC: 1.0,
    Rir.LACNIC: 0.5,
    Rir.AFRINIC: 0.5,
}
USER_AGENT = f"chokepoints/{__version__} (web dependency research; RDAP; Python urllib)"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class Origin(NamedTuple):
    """scheme, host and port of a URL: what redirects and rate limits are keyed on."""

    scheme: str
    host: str
    port: int


def origin_of(url: str) -> Origin:
    """The :class:`Origin` of an http(s) URL.

    :raises ValueError: for another scheme or a URL without a host.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if scheme == "https" else 80)
    return Origin(scheme, parts.hostname.lower(), port)


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback literals (127.0.0.1 and ::1 only, as the guard wants)."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return str(ipaddress.ip_address(host)) in LOOPBACK_HOSTS
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class RdapConfig:
    """How the client asks RDAP.

    :param servers: base URL per RIR (``<base>ip/<addr>`` is asked).
    :param rates: requests/s per RIR (a token bucket per server).
    :param base_url: one server for every address (the lab); ``servers`` is then unused.
    :param base_rate: requests/s to ``base_url``.
    :param burst: requests a bucket lets through back to back.
    :param timeout: seconds per socket operation (connect, each read).
    :param max_rate_limited: 429 answers tolerated per lookup before it is RATE_LIMITED.
    :param default_backoff: seconds to wait after a 429 without Retry-After (doubled each time).
    :param max_backoff: the longest wait honoured; a longer Retry-After ends the lookup.
    :param max_redirects: redirects followed per lookup (only to configured servers).
    :param max_bytes: the largest response body read; a larger one is MALFORMED.
    :param user_agent: sent with every request.
    """

    servers: Mapping[Rir, str] = field(default_factory=lambda: dict(DEFAULT_SERVERS))
    rates: Mapping[Rir, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    base_url: str | None = None
    base_rate: float = 1.0
    burst: float = 1.0
    timeout: float = 10.0
    max_rate_limited: int = 3
    default_backoff: float = 2.0
    max_backoff: float = 60.0
    max_redirects: int = 3
    max_bytes: int = 4 << 20
    user_agent: str = USER_AGENT

    def base_urls(self) -> dict[Rir | None, str]:
        """The base URLs in use, each ending in ``/``: ``{None: base_url}`` or one per RIR."""
        if self.base_url is not None:
            return {None: _slash(self.base_url)}
        return {Rir(rir): _slash(url) for rir, url in self.servers.items()}

    def rate_for(self, origin: Origin) -> float:
        """Requests/s to ``origin``: the lowest rate of the RIRs served there."""
        if self.base_url is not None:
            return self.base_rate
        found = [
            self.rates.get(Rir(rir), DEFAULT_RATES[Rir(rir)])
            for rir, url in self.servers.items()
            if origin_of(url) == origin
        ]
        return min(found) if found else min(DEFAULT_RATES.values())

    def check(self) -> None:
        """Refuse an unusable configuration (and, in loopback-only mode, any server off loopback).

        :raises RdapConfigError: naming the offending setting.
        """
        urls = self.base_urls()
        if not urls:
            raise RdapConfigError("RDAP: no server configured")
        for rir, url in urls.items():
            try:
                origin = origin_of(url)
            except ValueError as exc:
                raise RdapConfigError(f"RDAP base URL for {rir or 'all'}: {exc}") from None
            if loopback_only() and not is_loopback_host(origin.host):
                raise RdapConfigError(f"RDAP base URL {url} is not on loopback (CHOKEPOINTS_LOOPBACK_ONLY is set)")
        rates = [self.base_rate] if self.base_url is not None else [self.rate_for(origin_of(u)) for u in urls.values()]
        if any(r <= 0 for r in rates) or self.burst < 1:
            raise RdapConfigError("RDAP rates must be > 0 requests/s and burst >= 1")
        if self.timeout <= 0 or self.max_backoff < 0 or self.max_rate_limited < 0 or self.max_redirects < 0:
            raise RdapConfigError("RDAP timeout must be > 0 and limits >= 0")


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
