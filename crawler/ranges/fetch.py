"""Downloading the current version of a catalogue feed into the cache.

Downloads go through an ``opener`` (``urllib.request.urlopen``-like: ``opener(request,
timeout=...)`` returning a file-like response) so tests serve them from loopback. A saved
copy is named ``<feed>_<published>.<ext>`` so the cache folder is itself loadable with
``chokepoints data ranges CACHE_DIR``.

Reads ``CHOKEPOINTS_LOOPBACK_ONLY`` (:func:`chokepoints.config.loopback_only`): when set,
nothing is downloaded from anywhere but loopback.
"""

from __future__ import annotations

import ipaddress
import logging
import urllib.request
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chokepoints.config import loopback_only
from chokepoints.errors import OfflineError
from crawler.asn_sources import USER_AGENT
from crawler.ranges.feeds import FeedSpec
from crawler.ranges.formats import sniff

logger = logging.getLogger(__name__)

Opener = Callable[..., Any]

#: file extension of a saved copy, by format
EXTENSIONS = {"geofeed": "csv", "cidr": "txt"}


def is_loopback_url(url: str) -> bool:
    """True when *url*'s host is ``localhost`` or a loopback address."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_allowed(urls: Iterable[str]) -> None:
    """Refuse, before anything is downloaded, a URL off loopback in loopback-only mode.

    :raises OfflineError: when ``CHOKEPOINTS_LOOPBACK_ONLY`` is set and a URL is not on loopback.
    """
    if not loopback_only():
        return
    for url in urls:
        if not is_loopback_url(url):
            raise OfflineError(
                f"CHOKEPOINTS_LOOPBACK_ONLY is set: not downloading {url}; "
                "load saved files instead (chokepoints data ranges PATH)"
            )


def download(spec: FeedSpec, cache_dir: Path, opener: Opener, *, today: date, timeout: float = 60.0) -> Path:
    """Download *spec*'s URLs (several are concatenated) into ``cache_dir``; return the file.

    The file is named with the publication date its content carries, else *today*.

    :raises OSError: (``urllib.error.URLError`` included) when a download fails.
    """
    parts: list[bytes] = []
    for url in spec.urls:
        logger.info("downloading %s", url)
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with opener(req, timeout=timeout) as resp:
            body = resp.read()
        parts.append(body if body.endswith(b"\n") or not body else body + b"\n")
    cache_dir.mkdir(parents=True, exist_ok=True)
    ext = EXTENSIONS.get(spec.format, "json")
    tmp = cache_dir / f"{spec.id}.part"
    tmp.write_bytes(b"".join(parts))
    published = sniff(tmp).published or today
    final = cache_dir / f"{spec.id}_{published.isoformat()}.{ext}"
    tmp.replace(final)
    return final
