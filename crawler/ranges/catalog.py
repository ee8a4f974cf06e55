"""Which dated range files a folder holds, per provider, and which one is nearest a date.

A crawl is attributed with the range feeds *as published near its date*; this module finds
them. It recognises these layouts anywhere under the folder it is given:

- ``ip-ranges_<YYYY-MM-DD-hh-mm-ss>.json[.gz]``  AWS ip-ranges.json
- ``<feed>_<YYYY-MM-DD>.<ext>[.gz]``             a provider's own file, ``<feed>`` one of
  :data:`DATED_FEEDS` (GCP cloud.json, Azure service tags, Oracle, DigitalOcean/Linode geofeeds)
- ``<YYYY-MM-DD>/<provider>.json``               disposable/cloud-ip-ranges' normalised JSON
- ``<YYYY-MM-DD>/<provider>/ipv4.txt|ipv6.txt``  plain CIDR lists (lord-alfred/ipranges)

When two sources for one provider are equally near, the provider's own publication wins over
a normalised copy, which wins over a plain CIDR list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from crawler.ranges.model import RangeRow, provider_id
from crawler.ranges.parsers import (
    parse_aws,
    parse_azure,
    parse_cidr_list,
    parse_gcp,
    parse_geofeed,
    parse_normalised,
    parse_oracle,
)

#: format name -> parser
PARSERS: dict[str, Callable[..., Iterator[RangeRow]]] = {
    "aws": parse_aws,
    "gcp": parse_gcp,
    "azure": parse_azure,
    "oracle": parse_oracle,
    "geofeed": parse_geofeed,
    "normalised": parse_normalised,
    "cidr": parse_cidr_list,
}

#: ``<feed>_<date>`` file stems -> (provider id, format)
DATED_FEEDS: dict[str, tuple[str, str]] = {
    "ip-ranges": ("aws", "aws"),
    "google-cloud-ip-ranges": ("google", "gcp"),
    "cloud": ("google", "gcp"),
    "microsoft-azure-ip-ranges": ("microsoft", "azure"),
    "servicetags-public": ("microsoft", "azure"),
    "oracle-cloud-ip-ranges": ("oracle", "oracle"),
    "public-ip-ranges": ("oracle", "oracle"),
    "digitalocean": ("digitalocean", "geofeed"),
    "linode": ("linode", "geofeed"),
}

#: lower ranks win ties on distance
SOURCE_RANK = {"normalised": 1, "cidr": 2}

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATED_FILE = re.compile(r"^(?P<feed>[A-Za-z0-9_-]+?)_(?P<date>\d{4}-\d{2}-\d{2})[-0-9]*\.")


@dataclass(frozen=True, slots=True)
class RangeVersion:
    """One dated publication of one provider's ranges (one file, or an ipv4+ipv6 pair).

    :param provider: the provider id.
    :param date: the publication date the file name (or folder) carries.
    :param format: a key of :data:`PARSERS`.
    :param paths: the file(s) holding it.
    """

    provider: str
    date: date
    format: str
    paths: tuple[Path, ...]

    def rows(self) -> Iterator[RangeRow]:
        """Parse every file of this version."""
        parser = PARSERS[self.format]
        for path in self.paths:
            yield from parser(path, self.provider)


def _parse_date(text: str) -> date | None:
    match = _DATE.search(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _classify(path: Path, root: Path) -> tuple[str, date, str, str] | None:
    """Return (provider, date, format, group key) for a recognised file, else ``None``."""
    name = path.name
    match = _DATED_FILE.match(name)
    if match and match["feed"].lower() in DATED_FEEDS:
        provider, fmt = DATED_FEEDS[match["feed"].lower()]
        when = _parse_date(match["date"])
        return (provider, when, fmt, str(path)) if when else None
    parent_date = _parse_date(path.parent.name) if path.parent != root else None
    if parent_date and name.endswith(".json") and _DATE.fullmatch(path.parent.name):
        return provider_id(name[: -len(".json")]), parent_date, "normalised", str(path)
    grand = path.parent.parent
    if name in ("ipv4.txt", "ipv6.txt") and _DATE.fullmatch(grand.name):
        when = _parse_date(grand.name)
        if when:
            return provider_id(path.parent.name), when, "cidr", str(path.parent)
    return None


def list_versions(folder: Path) -> dict[str, list[RangeVersion]]:
    """Find every recognised dated range file under *folder*, grouped by provider id.

    :param folder: a folder of range feeds (for example ``../shared/data/provider_ranges``).
    :return: provider id -> its versions, oldest first.
    """
    groups: dict[str, tuple[str, date, str, list[Path]]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        found = _classify(path, folder)
        if found is None:
            continue
        provider, when, fmt, key = found
        groups.setdefault(key, (provider, when, fmt, []))[3].append(path)
    out: dict[str, list[RangeVersion]] = {}
    for provider, when, fmt, paths in groups.values():
        out.setdefault(provider, []).append(RangeVersion(provider, when, fmt, tuple(paths)))
    for versions in out.values():
        versions.sort(key=lambda v: (v.date, SOURCE_RANK.get(v.format, 0)))
    return out


def nearest_version(versions: list[RangeVersion], when: date) -> RangeVersion:
    """Pick the version published nearest *when* (ties: the provider's own file, then newer).

    :raises ValueError: when *versions* is empty.
    """
    if not versions:
        raise ValueError("no range versions to choose from")
    return min(
        versions,
        key=lambda v: (
            abs((v.date - when).days),
            SOURCE_RANK.get(v.format, 0),
            -v.date.toordinal(),
        ),
    )


def nearest_versions(folder: Path, when: date) -> dict[str, RangeVersion]:
    """For every provider with range files under *folder*, the version nearest *when*."""
    return {p: nearest_version(vs, when) for p, vs in list_versions(folder).items()}
