"""Every feed format by name, and recognising a feed file from its content.

* :data:`FORMATS` — the parsers of :mod:`crawler.ranges.parsers` plus Fastly's
  ``public-ip-list`` (``{"addresses": [...], "ipv6_addresses": [...]}``).
* :func:`sniff` — which format a file is in, and the publication date and version marker its
  content carries: AWS ``createDate`` / ``syncToken``, GCP ``creationTime`` / ``syncToken``,
  Azure ``changeNumber`` (no date: the file name has it), Oracle ``last_updated_timestamp``,
  disposable/cloud-ip-ranges' ``last_update``, a geofeed's ``# Last modified:`` comment.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from crawler.ranges.catalog import PARSERS
from crawler.ranges.model import RangeRow, canonical_prefix, open_text, rows

logger = logging.getLogger(__name__)

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_COMMENT_DATE = re.compile(r"(?i)(?:modified|updated|generated|published|as of)\D{0,20}(\d{4}-\d{2}-\d{2})")


def parse_fastly(path: Path, provider: str = "fastly") -> Iterator[RangeRow]:
    """Parse Fastly's ``public-ip-list`` JSON (``addresses`` and ``ipv6_addresses``)."""
    with open_text(path) as fh:
        doc = json.load(fh)

    def triples() -> Iterator[tuple[str, str | None, str | None]]:
        for key in ("addresses", "ipv6_addresses"):
            for text in doc.get(key, []):
                yield text, None, None

    return rows(triples(), provider, path)


#: format name -> parser ``(path, provider) -> rows``
FORMATS: dict[str, Callable[..., Iterator[RangeRow]]] = {**PARSERS, "fastly": parse_fastly}


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What a file's content says about itself.

    :param format: a key of :data:`FORMATS`, or ``None`` when the file is not a range feed.
    :param published: the publication date the content carries, if any.
    :param version: the feed's own version marker (AWS/GCP ``syncToken``, Azure ``changeNumber``).
    :param name: the provider name a normalised copy carries (``"Google Cloud"``).
    """

    format: str | None
    published: date | None = None
    version: str | None = None
    name: str | None = None


def parse_date(text: object) -> date | None:
    """The first ``YYYY-MM-DD`` in *text* (AWS's ``2015-12-23-20-22-16`` too), else ``None``."""
    match = _DATE.search(str(text)) if text is not None else None
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _sniff_json(doc: Any) -> Sniffed:
    if not isinstance(doc, dict):
        return Sniffed(None)

    def first(key: str) -> dict[str, Any]:
        items = doc.get(key)
        return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}

    token = str(doc["syncToken"]) if "syncToken" in doc else None
    if "createDate" in doc or "ip_prefix" in first("prefixes"):
        return Sniffed("aws", parse_date(doc.get("createDate")), token)
    if "creationTime" in doc or {"ipv4Prefix", "ipv6Prefix"} & set(first("prefixes")):
        return Sniffed("gcp", parse_date(doc.get("creationTime")), token)
    if "values" in doc and ("changeNumber" in doc or "cloud" in doc):
        change = doc.get("changeNumber")
        return Sniffed("azure", None, None if change is None else str(change))
    if "regions" in doc or "last_updated_timestamp" in doc:
        return Sniffed("oracle", parse_date(doc.get("last_updated_timestamp")))
    if "addresses" in doc or "ipv6_addresses" in doc:
        return Sniffed("fastly")
    if "ipv4" in doc or "ipv6" in doc:
        name = doc.get("provider")
        return Sniffed("normalised", parse_date(doc.get("last_update")), None, str(name) if name else None)
    return Sniffed(None)


def _sniff_text(lines: list[str]) -> Sniffed:
    published = None
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            match = _COMMENT_DATE.search(text)
            if match and published is None:
                published = parse_date(match[1])
            continue
        first = text.split(",", 1)[0].strip()
        if canonical_prefix(first) is None:
            return Sniffed(None)
        return Sniffed("geofeed" if "," in text else "cidr", published)
    return Sniffed(None)


def sniff(path: Path) -> Sniffed:
    """Recognise a range-feed file from its content (``.gz`` transparently).

    JSON files are parsed whole (their date keys may come after the prefixes); text files are
    judged on their first lines. Anything unreadable is ``Sniffed(None)``, never an exception.
    """
    try:
        with open_text(path) as fh:
            head = list(islice(fh, 64))
            if "".join(head).lstrip().startswith(("{", "[")):
                return _sniff_json(json.loads("".join(head) + fh.read()))
    except (OSError, UnicodeDecodeError, EOFError, ValueError) as exc:
        logger.debug("%s: not a range feed (%s)", path, exc)
        return Sniffed(None)
    return _sniff_text(head)
