"""Which feed a file on disk is a version of: by its name, its folder and its content.

Layouts recognised (anywhere under a folder, ``.gz`` transparently):

- ``<name>_<YYYY-MM-DD>[...].<ext>`` or ``<name>_<YYYYMMDD>.<ext>`` or ``<name>.<ext>``, where
  ``<name>`` is one of a catalogue feed's ``names`` (``ip-ranges``, ``ServiceTags_Public``,
  ``cloud``, ``linode``, ...): that feed.
- ``<YYYY-MM-DD>/<name>.json``: disposable/cloud-ip-ranges' normalised copy, feed ``normalised:<name>``.
- ``<YYYY-MM-DD>/<name>/ipv4.txt`` + ``ipv6.txt``: a plain CIDR list, feed ``cidr:<name>``
  (both files are one version).
- anything else whose content is a feed the catalogue publishes in one format only (AWS, GCP,
  Azure, Oracle, Fastly JSON): that feed; a geofeed or CIDR list named ``<name>...``:
  ``geofeed:<name>`` / ``cidr:<name>``.

The content decides when name and content disagree. The date in the name (or folder) is kept
beside the one the content carries; :mod:`crawler.ranges.store` prefers the content's.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from crawler.ranges.feeds import Catalogue, FeedSpec, slug
from crawler.ranges.formats import Sniffed, parse_date, sniff

logger = logging.getLogger(__name__)

_DATED_NAME = re.compile(r"^(?P<stem>.+?)[_-](?P<date>\d{4}-\d{2}-\d{2}|\d{8})(?=[-_.]|$)")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CIDR_PAIR = ("ipv4.txt", "ipv6.txt")
CIDR_PAIR_NAMES = _CIDR_PAIR

#: formats anyone may publish: the content alone does not say whose feed it is
GENERIC_FORMATS = frozenset({"cidr", "geofeed", "normalised"})


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One version of one feed found on disk (a file, or an ``ipv4.txt``/``ipv6.txt`` pair).

    :param feed: the feed name (a catalogue id, or ``cidr:<name>`` / ``normalised:<name>`` / ``geofeed:<name>``).
    :param format: the parser's name.
    :param paths: the file(s) holding the version.
    :param candidates: registry provider ids to try, first one the registry has wins.
    :param name_date: the date the file name or folder carries.
    :param content: what the content says (format, publication date, version marker).
    """

    feed: str
    format: str
    paths: tuple[Path, ...]
    candidates: tuple[str, ...]
    name_date: date | None = None
    content: Sniffed = field(default_factory=lambda: Sniffed(None))

    @property
    def published(self) -> date | None:
        """The publication date: the content's where it carries one, else the name's."""
        return self.content.published or self.name_date


def _day(text: str) -> date | None:
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return parse_date(text)


def _base(name: str) -> str:
    """The file name without ``.gz`` and without its extension (``ip-ranges_2015.json.gz`` -> ``ip-ranges_2015``)."""
    if name.endswith(".gz"):
        name = name[:-3]
    stem, dot, ext = name.rpartition(".")
    return stem if dot and ext.isalpha() and len(ext) <= 5 else name


def _third_party(fmt: str, name: str, catalogue: Catalogue) -> tuple[str, tuple[str, ...]]:
    key = slug(name)
    return f"{fmt}:{key}", catalogue.candidates(key)


def identify(path: Path, catalogue: Catalogue, *, feed: str | None = None) -> FeedFile | None:
    """Say which feed *path* is a version of, or ``None`` when it is not a range feed.

    :param path: a file.
    :param catalogue: the feed catalogue.
    :param feed: the feed named by the user (a catalogue id or ``cidr:<name>`` ...), overriding
        what the name says; the content must still be readable as a feed.
    """
    content = sniff(path)
    if content.format is None:
        return None
    base = _base(path.name)
    dated = _DATED_NAME.match(base)
    stem = dated["stem"] if dated else base
    name_date = _day(dated["date"]) if dated else None
    in_day_folder = bool(_ISO_DAY.fullmatch(path.parent.name))
    if name_date is None and in_day_folder:
        name_date = _day(path.parent.name)
    if name_date is None and path.name in _CIDR_PAIR and _ISO_DAY.fullmatch(path.parent.parent.name):
        name_date = _day(path.parent.parent.name)
    spec: FeedSpec | None
    if feed is not None:
        spec = catalogue.feeds.get(feed)
        if spec is None:
            fmt, _, name = feed.partition(":")
            name = name or stem
            fmt = fmt if fmt in ("cidr", "geofeed", "normalised") else content.format
            key, cands = _third_party(fmt, name, catalogue)
            return FeedFile(key, content.format, (path,), cands, name_date, content)
        return FeedFile(spec.id, content.format, (path,), spec.providers, name_date, content)
    spec = None if (in_day_folder and content.format == "normalised") else catalogue.by_name(stem)
    if spec is not None and spec.format != content.format:
        logger.info("%s: named like feed %s but its content is %s", path, spec.id, content.format)
        spec = None
    if spec is None and content.format not in GENERIC_FORMATS:
        spec = catalogue.by_format(content.format)
    if spec is not None:
        return FeedFile(spec.id, content.format, (path,), spec.providers, name_date, content)
    name = content.name or (path.parent.name if base in ("ipv4", "ipv6") else stem.split("_")[0].split(".")[0])
    key, cands = _third_party(content.format, name, catalogue)
    return FeedFile(key, content.format, (path,), cands, name_date, content)


def cidr_pair(folder: Path, catalogue: Catalogue) -> FeedFile | None:
    """A ``<date>/<name>/ipv4.txt|ipv6.txt`` folder as one version of ``cidr:<name>``."""
    paths = tuple(folder / n for n in _CIDR_PAIR if (folder / n).is_file())
    if not paths or any(sniff(p).format not in ("cidr", None) for p in paths):
        return None
    key, cands = _third_party("cidr", folder.name, catalogue)
    return FeedFile(key, "cidr", paths, cands, _day(folder.parent.name), Sniffed("cidr"))


def find_feed_files(folder: Path, catalogue: Catalogue) -> list[FeedFile]:
    """Every feed version under *folder* (recursively), in path order.

    Files that are not range feeds (``SOURCE.txt``, licences, READMEs) are left out.
    """
    found: list[FeedFile] = []
    pairs: set[Path] = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name in _CIDR_PAIR and _ISO_DAY.fullmatch(path.parent.parent.name):
            if path.parent not in pairs:
                pairs.add(path.parent)
                pair = cidr_pair(path.parent, catalogue)
                if pair is not None:
                    found.append(pair)
            continue
        ff = identify(path, catalogue)
        if ff is None:
            logger.debug("%s: not a range feed, skipped", path)
            continue
        found.append(ff)
    return found
