"""The catalogue of range feeds (``datasets/feeds.toml``): URLs, formats, provider mapping.

Which provider a feed names is data, kept in one place: each catalogue feed lists registry
provider ids to try (``provider = ["google-cloud", "google"]``: the first one the registry has
wins), and ``[aliases]`` does the same for the names third-party copies use (``amazon`` ->
``aws``). Nothing here reads the network or the database.
"""

from __future__ import annotations

import hashlib
import logging
import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import datasets
from chokepoints.errors import UserError

logger = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed of the catalogue.

    :param id: the stable feed name stored in ``range_feeds.feed``.
    :param providers: registry provider ids to try, most specific first.
    :param format: the parser's name (a key of :data:`crawler.ranges.formats.FORMATS`).
    :param urls: where the current version is downloaded (empty: no stable URL).
    :param url_source: the page documenting the URL.
    :param names: file-name stems that identify a saved copy (slugs).
    :param generic_services: services that label a whole address space, most generic first.
    """

    id: str
    providers: tuple[str, ...]
    format: str
    urls: tuple[str, ...] = ()
    url_source: str = ""
    names: tuple[str, ...] = ()
    generic_services: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The parsed ``feeds.toml``."""

    feeds: dict[str, FeedSpec]
    aliases: dict[str, tuple[str, ...]]
    version: str
    sha256: str
    path: str

    def by_name(self, stem: str) -> FeedSpec | None:
        """The feed whose saved copies are named *stem* (``ip-ranges``, ``ServiceTags_Public``)."""
        key = slug(stem)
        for spec in self.feeds.values():
            if key == spec.id or key in spec.names:
                return spec
        return None

    def by_format(self, fmt: str) -> FeedSpec | None:
        """The one feed published in *fmt*, or ``None`` when none or several are."""
        found = [spec for spec in self.feeds.values() if spec.format == fmt]
        return found[0] if len(found) == 1 else None

    def candidates(self, name: str) -> tuple[str, ...]:
        """Registry ids to try for a third-party copy named *name* (the alias list, else itself)."""
        key = slug(name)
        return self.aliases.get(key, (key,))

    def generic_services(self) -> list[tuple[str, str, int]]:
        """``(feed, service, rank)`` for every generic service; rank 0 is the most generic."""
        return [(s.id, svc, i) for s in self.feeds.values() for i, svc in enumerate(s.generic_services)]


def slug(name: str) -> str:
    """A file stem or display name as a lowercase slug (``ServiceTags_Public`` -> ``servicetags-public``)."""
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def resolve_provider(candidates: Iterable[str], known: Collection[str]) -> str | None:
    """The first of *candidates* that is a registry provider id, else ``None``."""
    for pid in candidates:
        if pid in known:
            return pid
    return None


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load the catalogue from *path* (default: the bundled ``datasets/feeds.toml``).

    :raises UserError: when the file is missing or not valid TOML.
    """
    path = path or datasets.path("feeds.toml")
    try:
        raw = path.read_bytes()
        doc = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read the feed catalogue {path}: {exc}") from exc
    feeds: dict[str, FeedSpec] = {}
    for entry in doc.get("feed", []):
        spec = FeedSpec(
            id=entry["id"],
            providers=tuple(entry.get("provider", ())),
            format=entry["format"],
            urls=tuple(entry.get("urls", ())),
            url_source=entry.get("url_source", ""),
            names=tuple(slug(n) for n in entry.get("names", ())),
            generic_services=tuple(entry.get("generic_services", ())),
        )
        if spec.id in feeds:
            raise UserError(f"{path}: feed {spec.id!r} is defined twice")
        feeds[spec.id] = spec
    aliases = {slug(k): tuple(v) for k, v in doc.get("aliases", {}).items()}
    return Catalogue(
        feeds=feeds,
        aliases=aliases,
        version=str(doc.get("catalogue", {}).get("version", "unknown")),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=str(path),
    )
