"""Where pyasn databases come from: CAIDA's RouteViews prefix-to-AS files, or full RIBs.

* :func:`fetch_pfx2as` — the default for a crawl without ``--asn-db``: CAIDA publishes the
  RouteViews prefix-to-AS table daily (a few MB, ``prefix<TAB>length<TAB>asn``); the IPv4 and
  IPv6 files for the snapshot's date (or the nearest earlier one) are downloaded into the
  cache and converted to one pyasn file.
* :func:`convert_mrt` — ``chokepoints data rib``: a RouteViews MRT RIB dump converted with
  pyasn's own parser (``pyasn.mrtx``), as ``pyasn_util_convert.py`` does.

Downloads go through an ``opener`` (``urllib.request.urlopen``-like) so tests can serve them
from loopback; base URLs are parameters for the same reason.
"""

from __future__ import annotations

import gzip
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

from chokepoints.config import check_download
from chokepoints.errors import OfflineError, UserError

logger = logging.getLogger(__name__)

CAIDA_V4 = "https://publicdata.caida.org/datasets/routing/routeviews-prefix2as/"
CAIDA_V6 = "https://publicdata.caida.org/datasets/routing/routeviews6-prefix2as/"
ROUTEVIEWS_RIB = "https://archive.routeviews.org/bgpdata/{y}.{m:02d}/RIBS/rib.{ymd}.{hm}.bz2"
USER_AGENT = "chokepoints (+https://github.com/chokepoints/chokepoints)"
_LOG_ENTRY = re.compile(r"(\d{4}/\d{2}/routeviews-rv[26]-(\d{8})-(\d{4})\.pfx2as\.gz)")

Opener = Callable[..., Any]


def _open(opener: Opener, url: str, timeout: float = 60.0) -> IO[bytes]:
    check_download(url)
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        return opener(req, timeout=timeout)  # type: ignore[no-any-return]
    except (urllib.error.URLError, OSError) as exc:
        raise OfflineError(f"cannot download {url} ({exc}): pass --asn-db FILE") from exc


def pick_file(creation_log: str, when: date) -> tuple[str, date] | None:
    """From CAIDA's ``pfx2as-creation.log``, the newest file dated on or before ``when``."""
    best: tuple[date, str] | None = None
    for m in _LOG_ENTRY.finditer(creation_log):
        ymd = m.group(2)
        day = date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]))
        if day <= when and (best is None or day > best[0]):
            best = (day, m.group(1))
    return (best[1], best[0]) if best else None


def pfx2as_lines(lines: Iterable[str]) -> Iterator[str]:
    """Convert ``prefix<TAB>len<TAB>asn`` lines to pyasn's ``prefix/len<TAB>asn``.

    Multi-origin prefixes (``a_b``) and AS sets (``a,b``) keep their first AS, as pyasn's
    own converter does.
    """
    for line in lines:
        parts = line.split()
        if len(parts) != 3 or line.startswith("#"):
            continue
        first = re.split(r"[_,]", parts[2])[0]
        if first.isdigit():
            yield f"{parts[0]}/{parts[1]}\t{first}\n"


def fetch_pfx2as(when: date, cache_dir: Path, *, offline: bool = False, opener: Opener | None = None,
                 bases: tuple[str, ...] = (CAIDA_V4, CAIDA_V6)) -> tuple[Path, str, date]:
    """Return ``(path, source, date)`` of a pyasn file for ``when``, downloading if needed."""
    opener = opener or urllib.request.urlopen
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = sorted(cache_dir.glob("ipasn_pfx2as_*.dat"))
    usable = [p for p in cached if (d := _date_of(p)) is not None and d <= when]
    if offline:
        if not usable:
            raise OfflineError(f"no cached ASN database for {when} in {cache_dir}: pass --asn-db FILE")
        path = usable[-1]
        return path, str(path), _date_of(path) or when
    sources: list[str] = []
    lines: list[str] = []
    day_used: date | None = None
    for base in bases:
        log = _open(opener, base + "pfx2as-creation.log").read().decode("utf-8", "replace")
        picked = pick_file(log, when)
        if picked is None:
            logger.warning("no prefix-to-AS file on or before %s at %s", when, base)
            continue
        rel, day = picked
        day_used = day if day_used is None else min(day_used, day)
        url = base + rel
        out = cache_dir / f"ipasn_pfx2as_{day:%Y%m%d}.dat"
        if out.exists():
            return out, url, day
        logger.info("downloading %s", url)
        with gzip.open(_open(opener, url), "rt", encoding="ascii", errors="replace") as fh:
            lines.extend(pfx2as_lines(fh))
        sources.append(url)
    if not lines or day_used is None:
        raise UserError(f"no RouteViews prefix-to-AS data on or before {when}")
    out = cache_dir / f"ipasn_pfx2as_{day_used:%Y%m%d}.dat"
    tmp = out.with_suffix(".tmp")
    with tmp.open("w", encoding="ascii") as fh:
        fh.write(f"; IP-ASN32-DAT file\n; Converted from: {' '.join(sources)}\n; Prefixes: {len(lines)}\n")
        fh.writelines(lines)
    tmp.replace(out)
    return out, " ".join(sources), day_used


def _date_of(path: Path) -> date | None:
    m = re.search(r"(\d{8})", path.name)
    return date(int(m.group(1)[:4]), int(m.group(1)[4:6]), int(m.group(1)[6:])) if m else None


def convert_mrt(mrt_files: Iterable[Path], out: Path) -> int:
    """Convert RouteViews MRT RIB dumps (``.bz2``/``.gz``) to one pyasn file; return prefixes."""
    from pyasn import mrtx

    prefixes: dict[str, Any] = {}
    for path in mrt_files:
        prefixes.update(mrtx.parse_mrt_file(str(path), print_progress=False, skip_record_on_error=True))
    if not prefixes:
        raise UserError("no prefixes found in the RIB dump(s)")
    out.parent.mkdir(parents=True, exist_ok=True)
    mrtx.dump_prefixes_to_file(prefixes, str(out), source_description=" ".join(str(p) for p in mrt_files))
    return len(prefixes)


def fetch_rib(when: date, cache_dir: Path, *, opener: Opener | None = None, hour: str = "0600") -> Path:
    """Download the RouteViews RIB of ``when`` (IPv4 collector) into the cache; return its path."""
    opener = opener or urllib.request.urlopen
    url = ROUTEVIEWS_RIB.format(y=when.year, m=when.month, ymd=f"{when:%Y%m%d}", hm=hour)
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"rib.{when:%Y%m%d}.{hour}.bz2"
    if not out.exists():
        tmp = out.with_suffix(".part")
        with _open(opener, url, timeout=600) as src, tmp.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        tmp.replace(out)
    return out
