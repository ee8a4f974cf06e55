"""The home-page side of a crawl as plain functions: which URL to fetch for a site, how a
fetch ended, and which of the page's resource hosts are third parties.

The Scrapy spider (:mod:`crawler.spiders`) and the download handler (:mod:`crawler.handlers`)
call these; nothing here imports Scrapy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler.attribution import registrable
from crawler.dns.hosts import addresses_of

#: how to choose the host of a site's home page: ``auto`` (the apex when it has an address,
#: else www), ``apex`` (only the apex), ``www`` (only www)
WWW_MODES = ("auto", "apex", "www")
#: a first https attempt that ended so is retried once over plain http
FALLBACK = frozenset({"TIMEOUT", "CONNECT_ERROR", "TLS_ERROR", "TLS_INVALID", "HTTP_ERROR"})
#: statuses of a site with no home page fetched, besides the fetch statuses of the last hop
NO_ADDRESS = "NO_ADDRESS"
#: resource hosts kept (and looked up) per page: a hostile page naming 20,000 hosts would
#: otherwise cost 40,000 DNS questions; real home pages name tens
MAX_HOSTS_PER_PAGE = 500
ROBOTS_DISALLOWED = "ROBOTS_DISALLOWED"
TOO_MANY_REDIRECTS = "TOO_MANY_REDIRECTS"


@dataclass(slots=True)
class PageResult:
    """How one site's home-page fetch ended: its hops (every request made, in order) and the
    hosts the final page references (``(host, tag, count, third_party)``)."""

    domain: str
    status: str
    start_url: str | None = None
    hops: list[Any] = field(default_factory=list)
    resources: list[tuple[str, str, int, bool]] = field(default_factory=list)
    error: str | None = None
    elapsed_ms: float = 0.0


def home_target(domain: str, results: Sequence[Any], mode: str = "auto") -> tuple[str, str] | None:
    """``(host, address)`` of the home page to fetch from a site's DNS results, or None when
    neither allowed name has an address."""
    if mode not in WWW_MODES:
        raise ValueError(f"unknown www mode {mode!r} (one of {', '.join(WWW_MODES)})")
    names = {"auto": (domain, f"www.{domain}"), "apex": (domain,), "www": (f"www.{domain}",)}[mode]
    for host in names:
        found = addresses_of(tuple(results), host)
        if found:
            return host, found[0]
    return None


def is_third_party(host: str, domain: str) -> bool:
    """True when ``host`` lies outside the site's registrable domain."""
    host = host.lower().rstrip(".")
    if host == domain or host.endswith("." + domain):
        return False
    return registrable(host) != registrable(domain)


def classify_resources(found: Iterable[tuple[str, str, int]], domain: str,
                       max_hosts: int = MAX_HOSTS_PER_PAGE) -> list[tuple[str, str, int, bool]]:
    """``(host, tag, count)`` rows of a page with the third-party flag added, for its first
    ``max_hosts`` distinct hosts (in the order given: sorted by host)."""
    kept: set[str] = set()
    out = []
    for host, tag, count in found:
        if host not in kept:
            if len(kept) >= max_hosts:
                continue
            kept.add(host)
        out.append((host, tag, count, is_third_party(host, domain)))
    return out


def failure_status(exc: BaseException) -> tuple[str, str]:
    """``(status, one-line error)`` of a home-page request that ended in an exception.

    A fetch failure carries its hop's status; Scrapy's own refusals are named: robots.txt,
    too many redirects; anything else is ``ERROR`` (kept as data, with its message).
    """
    hop = getattr(exc, "hop", None)
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if hop is not None:
        return str(hop.status), hop.error or message
    name = type(exc).__name__
    if name == "IgnoreRequest":
        if "robots" in message.lower():
            return ROBOTS_DISALLOWED, message
        if "redirect" in message.lower():
            return TOO_MANY_REDIRECTS, message
    if "Timeout" in name:
        return "TIMEOUT", message
    return "ERROR", f"{name}: {message}"
