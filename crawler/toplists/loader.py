"""Load a top list from a file or by name, normalise it and pin it (hash, ID, date, PSL).

No settings are read here; :mod:`crawler.toplists.tranco` reads ``CHOKEPOINTS_TRANCO_URL``.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from chokepoints.errors import ListError

from . import sources
from .formats import Row, detect_layout, parse_rows, split_lines
from .formats import decompress as _decompress
from .model import MAX_REJECTS_KEPT, ListEntry, Reject, TopList
from .naming import (
    ListIds,
    bucket_from_name,
    date_from_name,
    family_from_name,
    read_list_ids,
    tranco_id_from_name,
)
from .normalise import PSL_VERSION, normalise_domain
from .tranco import tranco_list

DEFAULT_CACHE_DIR = Path("~/.cache/chokepoints/lists")
#: Names that are lists, not files. Only Tranco is downloaded by name.
_LIST_NAMES = ("tranco", "radar", "crux", "umbrella", "alexa", "majestic")


def load_list(
    spec: str,
    *,
    top: int | None = None,
    list_date: date | None = None,
    list_id: str | None = None,
    fmt: str | None = None,
    cache_dir: Path | None = None,
    offline: bool = False,
    list_ids: Path | None = None,
) -> TopList:
    """Load, normalise, de-duplicate and pin a top list.

    :param spec: a path to a list file (csv, txt, ``.gz`` or a one-csv ``.zip``), or
        ``tranco``: the latest Tranco list, or the one of ``list_date`` or ``list_id``,
        downloaded into ``cache_dir`` unless already there.
    :param top: keep the first ``top`` entries *after* normalisation and de-duplication,
        so a top 1000 holds 1000 distinct registrable domains when the list has them. The
        counts of rejected and duplicate lines still describe the whole file.
    :param list_date: the list's date; overrides the date read from the file name.
    :param list_id: the Tranco list ID (for ``tranco``: which list to fetch).
    :param fmt: force a format (see :data:`crawler.toplists.formats.FORMATS`); default:
        detected from the header and first lines.
    :param cache_dir: where downloaded lists are kept (default ``~/.cache/chokepoints/lists``).
    :param offline: never download; a list must be a file or in the cache.
    :param list_ids: a ``date,tranco_list_id`` csv to map dates to IDs (and back) offline.
    :returns: the list, sorted by rank; ``sha256`` is that of the file bytes as stored
        (before decompression).
    :raises ListError: when the file is missing or unreadable, or nothing valid is in it.
    :raises OfflineError: when ``tranco`` needs a download and there is no network.
    """
    if top is not None and top < 1:
        raise ListError(f"top must be at least 1, not {top}")
    ids = read_list_ids(list_ids) if list_ids is not None else None
    path = Path(spec).expanduser()
    if spec.strip().lower() == "tranco" and not path.is_file():
        fetched = tranco_list(
            cache_dir=(cache_dir or DEFAULT_CACHE_DIR).expanduser(),
            list_id=list_id,
            list_date=list_date,
            list_ids=ids,
            offline=offline,
        )
        return parse_list(
            _read(fetched.path),
            source=fetched.url,
            name="tranco",
            list_id=fetched.list_id,
            list_date=fetched.list_date,
            fmt=fmt,
            top=top,
        )
    if not path.is_file() and sources.resolve(spec) is not None:
        fetched_path, url, fetched_day = sources.fetch_source(
            spec, (cache_dir or DEFAULT_CACHE_DIR).expanduser(), when=list_date, offline=offline)
        src, _ = sources.resolve(spec) or (None, None)
        return parse_list(_read(fetched_path), source=url, name=src.name if src else spec,
                          list_date=fetched_day, fmt=fmt, top=top)
    if not path.is_file():
        hint = f" (lists by name: tranco, {', '.join(sources.names())})" if spec in _LIST_NAMES else ""
        raise ListError(f"list file not found: {spec}{hint}")
    found_id = list_id or tranco_id_from_name(path.name, ids)
    name = family_from_name(path.name)
    if found_id is not None and name == "file":
        name = "tranco"
    day = list_date or _date_for(found_id, ids) or date_from_name(path.name)
    return parse_list(
        _read(path),
        source=str(path),
        name=name,
        list_id=found_id,
        list_date=day,
        fmt=fmt,
        top=top,
        bucket=bucket_from_name(path.name) if name == "radar" else None,
    )


def _date_for(list_id: str | None, ids: ListIds | None) -> date | None:
    return ids.dates.get(list_id) if ids is not None and list_id is not None else None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ListError(f"list file not found: {path}") from None
    except OSError as exc:
        raise ListError(f"cannot read list {path}: {exc.strerror or exc}") from None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of acyclic tuples.

    Each allocation burst otherwise triggers full collections that walk every row made so
    far: about a third of the time of a 1M-line load. Nothing built here holds a cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _normalise_rows(
    rows: list[Row], lines: list[str]
) -> tuple[list[tuple[int, int, str, str, int | None]], list[Reject]]:
    """Normalise every row: ``(rank, line_no, domain, field, bucket)`` kept, and rejects.

    All rejects are returned (the caller counts them), so keep this in line order.
    """
    kept: list[tuple[int, int, str, str, int | None]] = []
    append = kept.append
    rejects: list[Reject] = []
    normalise = normalise_domain
    for line_no, field, rank, row_bucket in rows:
        try:
            append((rank, line_no, normalise(field), field, row_bucket))
        except ValueError as exc:
            rejects.append(Reject(line_no, lines[line_no - 1].strip()[:200], str(exc)))
    return kept, rejects


def parse_list(
    data: bytes,
    *,
    source: str,
    name: str = "file",
    list_id: str | None = None,
    list_date: date | None = None,
    fmt: str | None = None,
    top: int | None = None,
    bucket: int | None = None,
) -> TopList:
    """Build a :class:`TopList` from the bytes of a list file (see :func:`load_list`).

    :param bucket: the bucket size of a Radar list (from its name), given to its entries.
    :raises ListError: when the bytes cannot be read as a list or hold no valid domain.
    """
    digest = hashlib.sha256(data).hexdigest()
    lines = split_lines(_decompress(data, source))
    if not any(line.strip() for line in lines):
        raise ListError(f"list is empty: {source}")
    layout = detect_layout(lines, fmt, hint=name)
    with _gc_paused():
        rows, rejects, rejected = parse_rows(lines, layout, default_bucket=bucket)
        kept, norm_rejects = _normalise_rows(rows, lines)
        del rows
        rejected += len(norm_rejects)
        norm_rejects = norm_rejects[:MAX_REJECTS_KEPT]
        if not kept:
            first = min(rejects + norm_rejects, key=lambda r: r.line_no, default=None)
            example = f", e.g. line {first.line_no}: {first.reason}" if first else ""
            raise ListError(f"no valid domains in {source}: {rejected} lines rejected{example}")
        kept.sort()  # by rank, then line number (unique: later fields are never compared)
        seen: set[str] = set()
        entries: list[ListEntry] = []
        limit = len(kept) if top is None else top
        for rank, _, domain, field, row_bucket in kept:
            if domain not in seen:
                seen.add(domain)
                if len(entries) < limit:
                    entries.append(ListEntry(rank, domain, field, row_bucket))
    return TopList(
        name=name,
        source=source,
        list_id=list_id,
        sha256=digest,
        list_date=list_date,
        format=layout.format,
        entries=tuple(entries),
        rejected=rejected,
        rejects=tuple(sorted(rejects + norm_rejects, key=lambda r: r.line_no)[:MAX_REJECTS_KEPT]),
        duplicates=len(kept) - len(seen),
        psl_version=PSL_VERSION,
    )
