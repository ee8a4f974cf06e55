"""What a list's file name tells: family, date, bucket size, Tranco ID; and Tranco ID files.

Names this understands (others give ``file`` and no date):

* ``radar_top-1000_2026-04-21.csv.gz``: family ``radar``, bucket 1000, date 2026-04-21;
* ``crux_us_202304.csv``: family ``crux``, date 2023-04-01 (a month: its first day);
* ``opendns-top-domains_2014-06-04.txt``: family ``umbrella`` (OpenDNS became Umbrella);
* ``tranco_QWKG4.csv`` or ``2026-04-21_QWKG4.csv.gz``: Tranco ID ``QWKG4`` (the second only
  when an ID file knows the ID).

A Tranco ID file is a csv of ``date,tranco_list_id`` lines (header optional), where the date
``current`` names the latest list. No settings are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from chokepoints.errors import ListError

_FAMILIES = (
    ("tranco", "tranco"),
    ("radar", "radar"),
    ("crux", "crux"),
    ("umbrella", "umbrella"),
    ("opendns", "umbrella"),
    ("alexa", "alexa"),
    ("majestic", "majestic"),
)
_DATE = re.compile(
    r"(?<![0-9])((?:19|20)[0-9]{2})-?(0[1-9]|1[0-2])(?:-?(0[1-9]|[12][0-9]|3[01]))?(?![0-9])"
)
_BUCKET = re.compile(r"top[-_]?([0-9]+)([km]?)(?![0-9a-z])", re.IGNORECASE)
_TRANCO_ID = re.compile(r"(?<![A-Za-z0-9])([A-Z0-9]{5})(?![A-Za-z0-9])")
_EXTENSIONS = (".gz", ".zip", ".csv", ".txt", ".tsv")
_UNITS = {"": 1, "k": 1_000, "m": 1_000_000}


def stem(filename: str) -> str:
    """The file name without its list and compression extensions."""
    name = Path(filename).name
    changed = True
    while changed:
        changed = False
        for ext in _EXTENSIONS:
            if name.lower().endswith(ext):
                name, changed = name[: -len(ext)], True
    return name


def family_from_name(filename: str) -> str:
    """The list family named in the file name, else ``file``."""
    lowered = Path(filename).name.lower()
    return next((family for key, family in _FAMILIES if key in lowered), "file")


def date_from_name(filename: str) -> date | None:
    """The first ``YYYY-MM-DD``, ``YYYYMMDD``, ``YYYY-MM`` or ``YYYYMM`` in the name."""
    for match in _DATE.finditer(stem(filename)):
        year, month, day = match.groups()
        try:
            return date(int(year), int(month), int(day or 1))
        except ValueError:
            continue
    return None


def bucket_from_name(filename: str) -> int | None:
    """The size in ``top-1000``, ``top_10k`` or ``top-1m`` in the name, else None."""
    match = _BUCKET.search(stem(filename))
    if match is None:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def tranco_id_from_name(filename: str, known: ListIds | None = None) -> str | None:
    """A Tranco list ID in the name: any 5-character upper-case token in a ``tranco`` name,
    else only a token that ``known`` lists."""
    tokens = _TRANCO_ID.findall(stem(filename))
    if known is not None:
        for token in tokens:
            if token in known.dates:
                return str(token)
    if family_from_name(filename) == "tranco" and tokens:
        return str(tokens[0])
    return None


@dataclass(frozen=True, slots=True)
class ListIds:
    """A date <-> Tranco list ID mapping read from a local file."""

    ids: dict[date, str] = field(default_factory=dict)
    dates: dict[str, date] = field(default_factory=dict)
    current: str | None = None


def read_list_ids(path: Path) -> ListIds:
    """Read a ``date,tranco_list_id`` csv (header optional; ``current`` = the latest).

    :raises ListError: when the file is missing, unreadable or holds no mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ListError(f"Tranco list ID file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ListError(f"cannot read Tranco list ID file {path}: {exc}") from None
    ids: dict[date, str] = {}
    dates: dict[str, date] = {}
    current = None
    for line in text.splitlines():
        key, _, value = (part.strip() for part in line.partition(","))
        if not value or value.lower() in ("tranco_list_id", "list_id", "id"):
            continue
        if key.lower() in ("current", "latest"):
            current = value
            continue
        try:
            day = date.fromisoformat(key)
        except ValueError:
            continue
        ids[day] = value
        dates.setdefault(value, day)
    if not ids and current is None:
        raise ListError(f"no date,tranco_list_id lines in {path}")
    return ListIds(ids, dates, current)
