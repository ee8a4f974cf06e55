"""One RDAP GET, with its outcome as data: JSON, or a status.

Requests go through an opener built with ``ProxyHandler({})`` (no proxy from the environment)
that never follows a redirect by itself: :func:`fetch_json` follows one only when the target is
a configured server (``allowed``), and takes a rate-limit slot for every request it sends. A 429
is waited out as its ``Retry-After`` (seconds or an HTTP date) says, within bounds, then retried.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin

from crawler.rdap.config import Origin, RdapConfig, origin_of
from crawler.rdap.status import RdapStatus, http_status

logger = logging.getLogger(__name__)

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "application/rdap+json, application/json;q=0.9"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand every redirect back as an HTTPError: the caller decides whether to follow it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def build_opener() -> urllib.request.OpenerDirector:
    """An opener with no proxies and no automatic redirects."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one lookup's HTTP exchange ended with.

    ``status`` is ``OK`` with ``data`` the parsed JSON, or a failure status with ``error``.
    ``requests`` counts the requests sent (429 retries and redirects included).
    """

    status: str
    url: str
    data: Any = None
    error: str | None = None
    requests: int = 0


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or (isinstance(exc, URLError) and isinstance(exc.reason, TimeoutError))


def fetch_json(
    url: str,
    *,
    config: RdapConfig,
    opener: urllib.request.OpenerDirector,
    acquire: Callable[[Origin], object],
    defer: Callable[[Origin, float], None],
    allowed: Callable[[Origin], bool],
    wall: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Fetched:
    """GET ``url`` as RDAP JSON; map every outcome to a status (never raises for the network).

    :param acquire: waits for a rate-limit slot at an origin (called before every request).
    :param defer: holds an origin's requests for some seconds (after a 429).
    :param allowed: whether a redirect target's origin may be asked.
    :param wall: the current UTC time, to read an HTTP-date ``Retry-After``.
    """
    headers = {"Accept": ACCEPT, "User-Agent": config.user_agent}
    sent = limited = redirects = 0
    while True:
        origin = origin_of(url)
        acquire(origin)
        sent += 1
        try:
            with opener.open(urllib.request.Request(url, headers=headers), timeout=config.timeout) as resp:
                body = resp.read(config.max_bytes + 1)
        except HTTPError as exc:
            code, hdrs = exc.code, exc.headers
            exc.close()
            if code in REDIRECT_CODES:
                target = _redirect_target(url, hdrs)
                if target is None or not _allowed(target, allowed) or redirects >= config.max_redirects:
                    return Fetched(http_status(code), url, error=f"redirect to {target} not followed", requests=sent)
                redirects += 1
                logger.debug("RDAP %s redirected to %s", url, target)
                url = target
                continue
            if code == 429:
                delay = parse_retry_after(hdrs.get("Retry-After"), wall())
                if delay is None:
                    delay = config.default_backoff * 2**limited
                if limited >= config.max_rate_limited or delay > config.max_backoff:
                    return Fetched(RdapStatus.RATE_LIMITED, url, error=f"429, retry after {delay:g}s", requests=sent)
                limited += 1
                logger.info("RDAP %s: 429, waiting %.1fs", origin.host, delay)
                defer(origin, delay)
                continue
            return Fetched(http_status(code), url, error=f"HTTP {code}", requests=sent)
        except (URLError, OSError, http.client.HTTPException) as exc:
            status = RdapStatus.TIMEOUT if _is_timeout(exc) else RdapStatus.NETWORK_ERROR
            return Fetched(status, url, error=f"{type(exc).__name__}: {exc}", requests=sent)
        if len(body) > config.max_bytes:
            return Fetched(RdapStatus.MALFORMED, url, error=f"body over {config.max_bytes} bytes", requests=sent)
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return Fetched(RdapStatus.MALFORMED, url, error=f"not JSON: {exc}", requests=sent)
        return Fetched(RdapStatus.OK, url, data=data, requests=sent)


def _allowed(url: str, allowed: Callable[[Origin], bool]) -> bool:
    try:
        return allowed(origin_of(url))
    except ValueError:  # not http(s): never followed
        return False


def _redirect_target(url: str, headers: Message) -> str | None:
    location = headers.get("Location")
    if not location:
        return None
    return urljoin(url, location)
