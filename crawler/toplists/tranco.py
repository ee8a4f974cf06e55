"""Fetch Tranco lists (https://tranco-list.eu) into a local cache, pinned by list ID.

Endpoints used (the shapes the public site serves, and what the tests' loopback server
mimics):

* ``GET {base}/api/lists/date/{YYYY-MM-DD|latest}``: JSON ``{"list_id": "QWKG4",
  "available": true, "created_on": "2026-04-21T...", "download": ...}``;
* ``GET {base}/download/{ID}/1000000``: the list, ``rank,domain`` csv, no header;
* ``GET {base}/top-1m.csv.zip``: the latest list as a zip holding ``top-1m.csv``; used only
  when the API cannot name the latest list (its ID is then unknown: the file is pinned by
  its hash alone).

A list is cached as ``tranco_<ID>.csv`` (the bytes exactly as served, so the snapshot's
sha256 is that of Tranco's file) with a ``tranco_<ID>.json`` sidecar (ID, date, URL), and is
reused from the cache with or without network. Date-to-ID mappings come, in order, from a
local ID file, the cache's sidecars, then the API.

Settings read: the environment variable ``CHOKEPOINTS_TRANCO_URL`` replaces the base URL
``https://tranco-list.eu`` (for the lab's local internet).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.client import HTTPException
from pathlib import Path
from typing import Any

from chokepoints import __version__
from chokepoints.config import check_download
from chokepoints.errors import ListError, OfflineError

from .naming import ListIds

logger = logging.getLogger(__name__)

TRANCO_URL = "https://tranco-list.eu"
USER_AGENT = f"chokepoints/{__version__} (web dependency research; Python urllib)"
TIMEOUT = 60.0
_ID = re.compile(r"[A-Za-z0-9]{1,16}")
_NO_NETWORK = "cannot download the Tranco list ({why}): pass a file with --list PATH"


@dataclass(frozen=True, slots=True)
class TrancoFile:
    """A Tranco list on disk: where it is, where it came from, and which list it is."""

    path: Path
    url: str
    list_id: str | None
    list_date: date | None


def base_url() -> str:
    """The Tranco base URL: ``$CHOKEPOINTS_TRANCO_URL`` or the public site."""
    return os.environ.get("CHOKEPOINTS_TRANCO_URL", "").rstrip("/") or TRANCO_URL


def fetch(
    url: str, *, opener: urllib.request.OpenerDirector | None = None, timeout: float = TIMEOUT
) -> bytes:
    """GET ``url`` and return the body.

    :param opener: the URL opener (default: urllib's, honouring proxy variables); tests pass
        one aimed at a loopback server.
    :raises OfflineError: when the network cannot be reached or the transfer breaks.
    :raises ListError: when the server answers with an HTTP error.
    """
    check_download(url)
    active = opener if opener is not None else urllib.request.build_opener()
    logger.info("downloading %s", url)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with active.open(request, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        raise ListError(f"Tranco answered HTTP {exc.code} for {url}") from None
    except (OSError, HTTPException) as exc:  # URLError, timeouts, resets are OSErrors
        reason = getattr(exc, "reason", exc)
        raise OfflineError(_NO_NETWORK.format(why=f"no network: {reason}")) from None
    except ValueError as exc:  # urllib's "unknown url type"
        raise ListError(f"bad Tranco URL {url!r}: {exc}") from None


def list_id_for(
    day: date | None,
    *,
    base: str,
    opener: urllib.request.OpenerDirector | None = None,
    timeout: float = TIMEOUT,
) -> tuple[str, date | None]:
    """Ask the Tranco API for the ID of the daily list of ``day`` (None: the latest).

    :returns: the list ID and its date (for the latest, the date of its ``created_on``).
    :raises ListError: when Tranco has no list for that date or answers something else.
    """
    key = day.isoformat() if day else "latest"
    url = f"{base}/api/lists/date/{key}"
    try:
        meta: Any = json.loads(fetch(url, opener=opener, timeout=timeout))
    except ValueError:
        raise ListError(f"Tranco sent invalid JSON for {url}") from None
    list_id = meta.get("list_id") if isinstance(meta, dict) else None
    if not isinstance(list_id, str) or _ID.fullmatch(list_id) is None:
        raise ListError(f"Tranco has no list for {key} ({url} names no list_id)")
    if meta.get("available") is False:
        raise ListError(f"Tranco list {list_id} for {key} is not available yet")
    if day is None:
        day = _date_or_none(str(meta.get("created_on") or "")[:10])
    return list_id, day


def tranco_list(
    *,
    cache_dir: Path,
    list_id: str | None = None,
    list_date: date | None = None,
    list_ids: ListIds | None = None,
    offline: bool = False,
    base: str | None = None,
    opener: urllib.request.OpenerDirector | None = None,
    timeout: float = TIMEOUT,
) -> TrancoFile:
    """Find or download a Tranco list: by ``list_id``, by ``list_date``, or the latest.

    :param cache_dir: where lists are cached (created when needed).
    :param list_ids: a local date -> ID mapping, consulted before the cache and the API.
    :param offline: never touch the network: use the cache or fail.
    :param base: the Tranco base URL (default :func:`base_url`).
    :raises OfflineError: when a download is needed and the network is off or unreachable.
    :raises ListError: when Tranco has no such list or sends something that is not one.
    """
    base = (base or base_url()).rstrip("/")
    if list_id is not None and _ID.fullmatch(list_id) is None:
        raise ListError(f"not a Tranco list ID: {list_id!r}")
    day = list_date
    if list_id is None and list_date is not None:
        list_id = (list_ids.ids.get(list_date) if list_ids else None) or _cached_id(
            cache_dir, list_date
        )
    elif list_id is None and offline and list_ids is not None:
        list_id = list_ids.current
    if list_id is None:
        if offline:
            what = f"for {list_date}" if list_date else "latest"
            raise OfflineError(_NO_NETWORK.format(why=f"offline, no cached list {what}"))
        try:
            list_id, day = list_id_for(list_date, base=base, opener=opener, timeout=timeout)
        except ListError:
            if list_date is not None:
                raise
            return _latest_zip(cache_dir, base, opener, timeout)
    if day is None and list_ids is not None:
        day = list_ids.dates.get(list_id)
    path = cache_dir / f"tranco_{list_id}.csv"
    url = f"{base}/download/{list_id}/1000000"
    if path.is_file():
        logger.info("using cached Tranco list %s (%s)", list_id, path)
        meta = _read_sidecar(path.with_suffix(".json"))
        if day is None:
            day = _date_or_none(meta.get("list_date"))
        return TrancoFile(path, str(meta.get("url") or url), list_id, day)
    if offline:
        raise OfflineError(_NO_NETWORK.format(why=f"offline, list {list_id} not in {cache_dir}"))
    body = fetch(url, opener=opener, timeout=timeout)
    if re.match(rb"\s*[0-9]+,", body[:64]) is None and body[:4] != b"PK\x03\x04":
        raise ListError(f"Tranco sent something that is not a list for {url}: {body[:40]!r}")
    _store(path, body)
    sidecar = {
        "list_id": list_id,
        "list_date": day.isoformat() if day else None,
        "url": url,
        "fetched": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _store(path.with_suffix(".json"), json.dumps(sidecar, indent=1).encode())
    return TrancoFile(path, url, list_id, day)


def _latest_zip(
    cache_dir: Path, base: str, opener: urllib.request.OpenerDirector | None, timeout: float
) -> TrancoFile:
    """Fall back to the unnamed latest list; pinned by its hash only."""
    url = f"{base}/top-1m.csv.zip"
    logger.warning("the Tranco API named no latest list: using %s (list ID unknown)", url)
    body = fetch(url, opener=opener, timeout=timeout)
    if body[:4] != b"PK\x03\x04":
        raise ListError(f"Tranco sent something that is not a zip for {url}: {body[:40]!r}")
    today = datetime.now(UTC).date()
    path = cache_dir / f"tranco_top-1m_{today.isoformat()}.csv.zip"
    _store(path, body)
    return TrancoFile(path, url, None, None)


def _cached_id(cache_dir: Path, day: date) -> str | None:
    """The ID of a cached list whose sidecar records ``day``."""
    if not cache_dir.is_dir():
        return None
    for sidecar in sorted(cache_dir.glob("tranco_*.json")):
        meta = _read_sidecar(sidecar)
        if meta.get("list_date") == day.isoformat() and sidecar.with_suffix(".csv").is_file():
            found = meta.get("list_id")
            return found if isinstance(found, str) else None
    return None


def _date_or_none(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _read_sidecar(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _store(path: Path, body: bytes) -> None:
    """Write atomically, so that an interrupted download never leaves a truncated list."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(body)
        partial.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ListError(f"cannot write the list cache {path}: {exc.strerror or exc}") from None
