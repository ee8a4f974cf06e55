"""Named top-list sources other than Tranco: Cisco Umbrella, Majestic Million, CrUX (global or
per country, monthly) and Cloudflare Radar — each with its public URL, a local cache, and the
sha256 of what was downloaded.

A download is cached as ``<source>_<YYYY-MM-DD>.<ext>`` (the bytes as served) with a
``.json`` sidecar (URL, date, sha256) and reused for the same day; offline, the newest cached
copy is used, else :class:`~chokepoints.errors.OfflineError` says to pass a file.

Settings read: ``CLOUDFLARE_API_TOKEN`` (Radar's API needs one), and
``CHOKEPOINTS_<SOURCE>_URL`` (e.g. ``CHOKEPOINTS_UMBRELLA_URL``) to replace a source's URL,
as the tests do with a loopback server.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from http.client import HTTPException
from pathlib import Path
from typing import Any

from chokepoints import __version__
from chokepoints.config import check_download
from chokepoints.errors import ListError, OfflineError

logger = logging.getLogger(__name__)

USER_AGENT = f"chokepoints/{__version__} (web dependency research; Python urllib)"


@dataclass(frozen=True, slots=True)
class Source:
    """A downloadable top list: where it is, what it is called, how big."""

    name: str          # the list family recorded in snapshots (trends group by it)
    url: str           # may hold {country} and {month} (YYYYMM)
    ext: str           # the cached file's extension (the loader reads gz/zip transparently)
    token_env: str | None = None
    doc: str = ""


SOURCES: dict[str, Source] = {
    "umbrella": Source("umbrella", "https://s3-us-west-1.amazonaws.com/umbrella-static/top-1m.csv.zip", "csv.zip",
                       doc="Cisco Umbrella top 1M by DNS query volume (rank,domain)"),
    "majestic": Source("majestic", "https://downloads.majestic.com/majestic_million.csv", "csv",
                       doc="Majestic Million by referring subnets (GlobalRank,...,Domain)"),
    "crux": Source("crux", "https://raw.githubusercontent.com/zakird/crux-top-lists/main/data/global/{month}.csv.gz",
                   "csv.gz", doc="CrUX top origins, monthly, global (origin,rank buckets)"),
    "crux-country": Source(
        "crux", "https://raw.githubusercontent.com/zakird/crux-top-lists/main/data/country/{country}/{month}.csv.gz",
        "csv.gz", doc="CrUX top origins, monthly, per country: crux:<cc>"),
    "radar": Source("radar", "https://api.cloudflare.com/client/v4/radar/datasets/ranking_top_{size}", "csv",
                    token_env="CLOUDFLARE_API_TOKEN", doc="Cloudflare Radar top domains (needs an API token)"),
}


def names() -> list[str]:
    return ["umbrella", "majestic", "crux", "crux:<cc>", "radar"]


def resolve(spec: str) -> tuple[Source, dict[str, str]] | None:
    """``umbrella``, ``majestic``, ``crux``, ``crux:us``, ``radar`` -> the source and its URL fields."""
    key, _, arg = spec.strip().lower().partition(":")
    if key == "crux" and arg:
        return SOURCES["crux-country"], {"country": arg}
    if key == "radar":
        return SOURCES["radar"], {"size": arg or "1000000"}
    src = SOURCES.get(key)
    return (src, {}) if src is not None and not arg else None


def url_for(source: Source, fields: dict[str, str], when: date) -> str:
    override = os.environ.get(f"CHOKEPOINTS_{source.name.upper()}_URL")
    base = override or source.url
    month = f"{when:%Y%m}"
    return base.format(month=month, **fields) if "{" in base else base


def fetch_source(spec: str, cache_dir: Path, *, when: date | None = None, offline: bool = False,
                 opener: Callable[..., Any] | None = None) -> tuple[Path, str, date]:
    """Download (or take from the cache) the list named ``spec``; return path, URL and date.

    :raises OfflineError: offline (or no network) and nothing cached.
    :raises ListError: an HTTP error, or a token the source needs is missing.
    """
    found = resolve(spec)
    if found is None:
        raise ListError(f"unknown list {spec!r}: a file, tranco, {', '.join(names())}")
    source, fields = found
    day = when or date.today()
    tag = "_".join([spec.replace(":", "-"), f"{day:%Y-%m-%d}"])
    path = cache_dir / f"{tag}.{source.ext}"
    if path.is_file():
        return path, _sidecar_url(path), day
    if offline:
        cached = sorted(cache_dir.glob(f"{spec.replace(':', '-')}_*.{source.ext}"))
        if cached:
            return cached[-1], _sidecar_url(cached[-1]), date.fromisoformat(cached[-1].name.split("_")[1][:10])
        raise OfflineError(f"cannot download the {spec} list (offline, nothing cached): pass a file with --list PATH")
    url = url_for(source, fields, day)
    headers = {"User-Agent": USER_AGENT}
    if source.token_env:
        token = os.environ.get(source.token_env)
        if not token:
            raise ListError(f"the {spec} list needs an API token in ${source.token_env}")
        headers["Authorization"] = f"Bearer {token}"
    check_download(url)
    active = opener or urllib.request.build_opener().open
    try:
        with active(urllib.request.Request(url, headers=headers), timeout=120) as response:
            body: bytes = response.read()
    except urllib.error.HTTPError as exc:
        raise ListError(f"{spec}: HTTP {exc.code} for {url}") from None
    except (OSError, HTTPException) as exc:
        raise OfflineError(f"cannot download the {spec} list ({getattr(exc, 'reason', exc)}): "
                           "pass a file with --list PATH") from None
    cache_dir.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_bytes(body)
    part.replace(path)
    path.with_suffix(path.suffix + ".json").write_text(json.dumps(
        {"url": url, "date": day.isoformat(), "sha256": hashlib.sha256(body).hexdigest()}) + "\n")
    return path, url, day


def _sidecar_url(path: Path) -> str:
    side = path.with_suffix(path.suffix + ".json")
    try:
        return str(json.loads(side.read_text())["url"])
    except (OSError, ValueError, KeyError):
        return str(path)
