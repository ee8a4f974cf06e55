"""Loading range-feed versions into the database (``range_feeds`` + ``ip_ranges``).

Every dated version is kept: a snapshot is matched against the versions nearest its date
(:mod:`crawler.ranges.match`). A version is identified by (feed, sha256 of its bytes), so
loading the same file twice adds nothing. Rows go in as one Arrow batch per version.

* :func:`load_feed_file` — one file, its feed and date recognised from name and content.
* :func:`load_folder` — every version under a folder (``../shared/data/provider_ranges``).
* :func:`fetch_current` — download the catalogue's feeds (``datasets/feeds.toml``) and load them.

Provider ids are the registry's (``datasets/providers.toml``), chosen through the catalogue.
"""

from __future__ import annotations

import hashlib
import logging
import urllib.error
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from chokepoints import db
from chokepoints.errors import OfflineError, UserError
from crawler.ranges import fetch
from crawler.ranges.feeds import Catalogue, load_catalogue, resolve_provider
from crawler.ranges.formats import FORMATS
from crawler.ranges.identify import CIDR_PAIR_NAMES, FeedFile, cidr_pair, find_feed_files, identify
from crawler.ranges.model import prefix_ints
from crawler.registry import Registry

logger = logging.getLogger(__name__)

_THIRD_PARTY = ("cidr:", "geofeed:", "normalised:")
_SCHEMA = pa.schema([
    ("feed_id", pa.int32()), ("provider", pa.string()), ("prefix", pa.string()), ("family", pa.int8()),
    ("prefix_len", pa.int16()), ("start_num", pa.string()), ("end_num", pa.string()),
    ("region", pa.string()), ("service", pa.string()),
])


class LoadStatus(StrEnum):
    """What happened to one feed version."""

    NEW = "new"
    ALREADY = "already loaded"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FeedLoad:
    """The outcome of loading (or fetching) one feed version.

    :param feed: the feed name.
    :param provider: the registry provider id (``None`` when none could be chosen).
    :param published: the version's publication date.
    :param prefixes: rows the version has in ``ip_ranges``.
    :param status: new, already loaded, skipped or failed.
    :param source: the path(s) or URL(s) read.
    :param feed_id: the ``range_feeds`` id (new or existing).
    :param reason: why it was skipped or failed.
    """

    feed: str
    provider: str | None
    published: date | None
    prefixes: int
    status: LoadStatus
    source: str
    feed_id: int | None = None
    reason: str | None = None


def _known(registry: Registry | None) -> Collection[str]:
    if registry is None:
        from crawler import registry as registry_mod

        registry = registry_mod.load()
    return registry.providers.keys()


def _sha256(paths: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def range_table(ff: FeedFile, provider: str) -> pa.Table:
    """Parse a version into ``ip_ranges`` rows (``feed_id`` left null; numbers as decimal text)."""
    parser = FORMATS[ff.format]
    cols: dict[str, list[Any]] = {name: [] for name in _SCHEMA.names}
    for path in ff.paths:
        for row in parser(path, provider):
            parsed = prefix_ints(row.prefix)
            if parsed is None:  # parsers yield canonical prefixes only
                continue
            family, start, plen = parsed
            bits = 32 if family == 4 else 128
            cols["provider"].append(provider)
            cols["prefix"].append(row.prefix)
            cols["family"].append(family)
            cols["prefix_len"].append(plen)
            cols["start_num"].append(str(start))
            cols["end_num"].append(str(start | ((1 << (bits - plen)) - 1)))
            cols["region"].append(row.region)
            cols["service"].append(row.service)
    cols["feed_id"] = [None] * len(cols["prefix"])
    return pa.table(cols, schema=_SCHEMA)


def store_version(
    con: duckdb.DuckDBPyConnection, ff: FeedFile, provider: str, published: date, source: str
) -> FeedLoad:
    """Store one version unless (feed, sha256) is already there; one transaction."""
    sha = _sha256(ff.paths)
    old = con.execute(
        "select feed_id, provider, published, prefixes from range_feeds where feed = ? and sha256 = ?",
        [ff.feed, sha],
    ).fetchall()
    if old:
        fid, prov, when, n = old[0]
        return FeedLoad(ff.feed, prov, when, n, LoadStatus.ALREADY, source, fid)
    table = range_table(ff, provider)
    if table.num_rows == 0:
        return FeedLoad(ff.feed, provider, published, 0, LoadStatus.SKIPPED, source, reason="no prefixes")
    con.execute("begin transaction")
    try:
        fid = con.execute(
            "insert into range_feeds (provider, feed, format, published, version, source, sha256, loaded_at,"
            " prefixes) values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning feed_id",
            [provider, ff.feed, ff.format, published, ff.content.version, source, sha,
             datetime.now(UTC).replace(tzinfo=None), table.num_rows],
        ).fetchall()[0][0]
        table = table.set_column(0, "feed_id", pa.array([fid] * table.num_rows, pa.int32()))
        db.append(con, "ip_ranges", table)
        con.execute("commit")
    except Exception:
        db.rollback(con)
        raise
    logger.info("%s %s (%s): %d prefixes from %s", ff.feed, published, provider, table.num_rows, source)
    return FeedLoad(ff.feed, provider, published, table.num_rows, LoadStatus.NEW, source, int(fid))


def _check_feed_name(feed: str, catalogue: Catalogue) -> None:
    if feed in catalogue.feeds:
        return
    if feed.startswith(_THIRD_PARTY) and feed.partition(":")[2]:
        return
    known = ", ".join(sorted(catalogue.feeds))
    raise UserError(f"unknown feed {feed!r}: one of {known}, or cidr:<name> / geofeed:<name>")


def load_feed_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    feed: str | None = None,
    provider: str | None = None,
    published: date | None = None,
    *,
    catalogue: Catalogue | None = None,
    registry: Registry | None = None,
) -> FeedLoad:
    """Load one feed file (``.gz`` transparently).

    :param path: the file.
    :param feed: the feed it is a version of; by default recognised from its name and content.
    :param provider: the registry provider id; by default the catalogue's for the feed.
    :param published: the publication date; by default the content's (AWS ``createDate``, GCP
        ``creationTime``, ...), else the date in the file name.
    :raises UserError: when the file is missing, not a feed, or its provider or date cannot be told.
    """
    catalogue = catalogue or load_catalogue()
    if not path.is_file():
        raise UserError(f"range file not found: {path}")
    if feed is not None:
        _check_feed_name(feed, catalogue)
    ff = identify(path, catalogue, feed=feed)
    if ff is None:
        raise UserError(f"{path}: not a range feed (AWS, GCP, Azure, Oracle or Fastly JSON, geofeed, CIDR list)")
    known = _known(registry)
    if provider is not None and provider not in known:
        raise UserError(f"provider {provider!r} is not in the registry (datasets/providers.toml)")
    chosen = provider or resolve_provider(ff.candidates, known)
    if chosen is None:
        raise UserError(f"{path}: none of {', '.join(ff.candidates)} is a registry provider: pass --provider")
    when = published or ff.published
    if when is None:
        raise UserError(f"{path}: no publication date in its content or name: pass --published YYYY-MM-DD")
    return store_version(con, ff, chosen, when, str(path))


def load_versions(
    con: duckdb.DuckDBPyConnection,
    files: list[tuple[Path, str, date | None]],
    *,
    catalogue: Catalogue | None = None,
    registry: Registry | None = None,
) -> list[FeedLoad]:
    """Load given files as versions of the given providers' ranges (what a lab world used).

    An ``ipv4.txt``/``ipv6.txt`` pair in one folder is one version (``cidr:<folder>``), as
    :func:`load_folder` reads it; other files are identified one by one.

    :param files: ``(path, provider, published)``; ``published`` None: from the content or name.
    """
    catalogue = catalogue or load_catalogue()
    out: list[FeedLoad] = []
    pairs: set[Path] = set()
    for path, provider, published in files:
        if path.name in CIDR_PAIR_NAMES:
            if path.parent in pairs:
                continue
            pairs.add(path.parent)
            ff = cidr_pair(path.parent, catalogue)
            if ff is None:
                raise UserError(f"{path.parent}: not a CIDR list pair")
            when = published or ff.published
            if when is None:
                raise UserError(f"{path.parent}: no publication date in its name: give one")
            out.append(store_version(con, ff, provider, when, " ".join(str(p) for p in ff.paths)))
        else:
            out.append(load_feed_file(con, path, provider=provider, published=published,
                                      catalogue=catalogue, registry=registry))
    return out


def load_folder(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    *,
    catalogue: Catalogue | None = None,
    registry: Registry | None = None,
) -> list[FeedLoad]:
    """Load every feed version under *folder* (all feeds, all dates).

    Versions whose provider the registry does not have, or whose date cannot be told, are
    reported as skipped rather than failing the whole folder.

    :raises UserError: when *folder* is not a folder.
    """
    catalogue = catalogue or load_catalogue()
    if not folder.is_dir():
        raise UserError(f"range folder not found: {folder}")
    known = _known(registry)
    out: list[FeedLoad] = []
    for ff in find_feed_files(folder, catalogue):
        source = " ".join(str(p) for p in ff.paths)
        provider = resolve_provider(ff.candidates, known)
        if provider is None:
            reason = f"{'/'.join(ff.candidates)} is not a registry provider"
            out.append(FeedLoad(ff.feed, None, ff.published, 0, LoadStatus.SKIPPED, source, reason=reason))
        elif ff.published is None:
            reason = "no publication date in its content or name"
            out.append(FeedLoad(ff.feed, provider, None, 0, LoadStatus.SKIPPED, source, reason=reason))
        else:
            out.append(store_version(con, ff, provider, ff.published, source))
    return out


def fetch_current(
    con: duckdb.DuckDBPyConnection,
    cache_dir: Path,
    opener: fetch.Opener,
    catalogue: Catalogue | None = None,
    *,
    registry: Registry | None = None,
    today: date | None = None,
) -> list[FeedLoad]:
    """Download every catalogue feed that has URLs into *cache_dir* and load it.

    A feed that cannot be downloaded is reported as failed; feeds without a stable URL (Azure)
    as skipped, with where to get them.

    :raises OfflineError: in loopback-only mode for URLs off loopback (before any download), or
        when no feed could be downloaded at all.
    """
    catalogue = catalogue or load_catalogue()
    today = today or datetime.now(UTC).date()
    fetch.check_allowed(url for spec in catalogue.feeds.values() for url in spec.urls)
    known = _known(registry)
    out: list[FeedLoad] = []
    failures: list[str] = []
    for spec in catalogue.feeds.values():
        provider = resolve_provider(spec.providers, known)
        source = " ".join(spec.urls)
        if not spec.urls or provider is None:
            reason = (f"no stable URL: download it from {spec.url_source}, then load the file" if not spec.urls
                      else f"{'/'.join(spec.providers)} is not a registry provider")
            out.append(FeedLoad(spec.id, provider, None, 0, LoadStatus.SKIPPED, source or spec.url_source,
                                reason=reason))
            continue
        try:
            path = fetch.download(spec, cache_dir, opener, today=today)
        except (urllib.error.URLError, OSError) as exc:
            logger.warning("cannot download %s: %s", source, exc)
            failures.append(f"{source}: {exc}")
            out.append(FeedLoad(spec.id, provider, None, 0, LoadStatus.FAILED, source, reason=str(exc)))
            continue
        ff = identify(path, catalogue, feed=spec.id)
        if ff is None or ff.format != spec.format:
            out.append(FeedLoad(spec.id, provider, None, 0, LoadStatus.FAILED, source,
                                reason=f"the download is not a {spec.format} feed (kept in {path})"))
            continue
        out.append(store_version(con, ff, provider, ff.published or today, source))
    if failures and not any(r.status in (LoadStatus.NEW, LoadStatus.ALREADY) for r in out):
        raise OfflineError(f"cannot download range feeds ({failures[0]}): load saved files instead "
                           "(chokepoints data ranges PATH)")
    return out


def stored_feeds(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every stored version, by provider, feed and date."""
    return db.fetch_dicts(
        con,
        "select feed_id, provider, feed, published, prefixes, version, loaded_at, source"
        " from range_feeds order by provider, feed, published, feed_id",
    )
