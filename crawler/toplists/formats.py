"""Read the bytes of a top list: decompress, detect the format, split lines into rows.

Formats (``fmt`` names):

* ``rank_domain``: ``rank,domain`` csv (Tranco, Umbrella, Alexa); header optional; a header
  may name other columns (Majestic's ``GlobalRank,...,Domain,...``).
* ``domain_lines``: one name a line, by popularity (OpenDNS).
* ``radar_csv``: Cloudflare Radar, a ``domain`` header then names in rank buckets (the
  order inside a bucket is alphabetical, not popularity).
* ``crux_bucket``: CrUX ``bucket,domain`` (or BigQuery's ``origin,rank`` where the "rank" is
  the bucket): popularity buckets of 1000, 5000, 10000...

Compression is recognised by its magic bytes, whatever the file is called: gzip, or a zip
holding one csv (as Tranco ships ``top-1m.csv.zip``). Blank lines and ``#`` comments are
skipped. No settings are read.
"""

from __future__ import annotations

import gzip
import io
import itertools
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from chokepoints.errors import ListError

from .model import MAX_REJECTS_KEPT, Reject

FORMATS = ("rank_domain", "domain_lines", "radar_csv", "crux_bucket")

_DOMAIN_COLUMNS = ("domain", "origin", "site", "host", "hostname", "url", "name", "domains")
_RANK_COLUMNS = ("rank", "globalrank", "position", "#")
_SAMPLE = 50

#: (line number, domain field as written, rank, bucket or None)
Row = tuple[int, str, int, int | None]


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the fields are: the format, whether line 1 is a header, and column indexes."""

    format: str
    header: bool
    domain_col: int | None  # None: the whole line is the domain
    rank_col: int | None = None
    bucket_col: int | None = None


def decompress(data: bytes, source: str) -> bytes:
    """Return the list's text bytes, unpacking gzip or a one-csv zip found by magic bytes."""
    try:
        if data[:2] == b"\x1f\x8b":
            return gzip.decompress(data)
        if data[:4] == b"PK\x03\x04":
            return _unzip(data, source)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise ListError(f"cannot read list {source}: corrupt archive ({exc})") from None
    return data


def _unzip(data: bytes, source: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        csvs = [m for m in members if m.filename.lower().endswith((".csv", ".txt"))]
        chosen = csvs if csvs else members
        if len(chosen) != 1:
            names = ", ".join(m.filename for m in members) or "nothing"
            raise ListError(f"cannot read list {source}: the zip must hold one csv, not {names}")
        return archive.read(chosen[0])


def split_lines(data: bytes) -> list[str]:
    """Decode UTF-8 (bad bytes become U+FFFD, rejected later per line) and split on newlines.

    Only ``\\n`` ends a line so that line numbers match ``wc -l`` and an editor.
    """
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def _fields(line: str) -> list[str]:
    return [field.strip().strip('"').strip() for field in line.split(",")]


def _is_int(text: str) -> bool:
    return text.isdigit() and len(text) < 12


def _data_lines(lines: Sequence[str], limit: int) -> list[str]:
    sample: list[str] = []
    for line in lines:
        if not _skipped(line):
            sample.append(line.strip())
            if len(sample) >= limit:
                break
    return sample


def detect_layout(lines: Sequence[str], fmt: str | None = None, hint: str = "") -> Layout:
    """Find the format and columns from the header and first lines; ``fmt`` overrides.

    :param lines: the decoded lines of the list.
    :param fmt: one of :data:`FORMATS` to force, or None to detect.
    :param hint: the list family read from the file name (``radar`` picks ``radar_csv`` for a
        one-column file).
    :raises ListError: for an unknown ``fmt``.
    """
    if fmt is not None and fmt not in FORMATS:
        raise ListError(f"unknown list format {fmt!r}: choose one of {', '.join(FORMATS)}")
    sample = _data_lines(lines, _SAMPLE + 1)
    first = _fields(sample[0].lower()) if sample else [""]
    header = not any(_is_int(f) for f in first) and any(
        f in _DOMAIN_COLUMNS or f in _RANK_COLUMNS or f == "bucket" for f in first
    )
    detected = _from_header(first, hint) if header else _from_rows(sample, hint)
    if fmt is None or fmt == detected.format:
        return detected
    if fmt in ("domain_lines", "radar_csv"):
        column = detected.domain_col if header and len(first) > 1 else None
        return Layout(fmt, header, column)
    if fmt == "crux_bucket":
        if detected.bucket_col is not None or detected.rank_col is not None:
            column = detected.rank_col if detected.bucket_col is None else detected.bucket_col
            return Layout(fmt, header, detected.domain_col, bucket_col=column)
        return Layout(fmt, header, 1, bucket_col=0)
    if detected.bucket_col is not None:
        return Layout(fmt, header, detected.domain_col, rank_col=detected.bucket_col)
    return Layout(fmt, header, 1, rank_col=0)


def _from_header(names: list[str], hint: str) -> Layout:
    domain_col = next((i for i, n in enumerate(names) if n in _DOMAIN_COLUMNS), None)
    rank_col = next((i for i, n in enumerate(names) if n in _RANK_COLUMNS), None)
    bucket_col = names.index("bucket") if "bucket" in names else None
    crux_export = domain_col is not None and names[domain_col] == "origin"
    if bucket_col is None and rank_col is not None and crux_export:
        bucket_col, rank_col = rank_col, None  # CrUX's BigQuery export: its "rank" is a bucket
    if domain_col is None:
        domain_col = 1 if len(names) > 1 else None
    if bucket_col is not None:
        return Layout("crux_bucket", True, domain_col, bucket_col=bucket_col)
    if rank_col is not None:
        return Layout("rank_domain", True, domain_col, rank_col=rank_col)
    if len(names) == 1:
        one_col = "radar_csv" if names[0] == "domain" or hint == "radar" else "domain_lines"
        return Layout(one_col, True, None)
    return Layout("domain_lines", True, domain_col)


def _from_rows(sample: list[str], hint: str) -> Layout:
    rows = [_fields(line) for line in sample]
    if not rows or len(rows[0]) < 2:
        return Layout("radar_csv" if hint == "radar" else "domain_lines", False, None)
    number_col = 0 if _is_int(rows[0][0]) else 1 if _is_int(rows[0][1]) else None
    if number_col is None:
        return Layout("domain_lines", False, None)
    domain_col = 1 - number_col
    values = [int(r[number_col]) for r in rows if len(r) > number_col and _is_int(r[number_col])]
    in_order = all(a <= b for a, b in itertools.pairwise(values))
    if hint == "crux" or (in_order and len(set(values)) < len(values)):
        return Layout("crux_bucket", False, domain_col, bucket_col=number_col)
    return Layout("rank_domain", False, domain_col, rank_col=number_col)


def parse_rows(
    lines: Sequence[str], layout: Layout, default_bucket: int | None = None
) -> tuple[list[Row], list[Reject], int]:
    """Split the lines into rows ``(line_no, domain field, rank, bucket)`` in line order.

    Ranks: ``rank_domain`` takes the file's rank; ``domain_lines`` and ``radar_csv`` count
    data lines; ``crux_bucket`` ranks by bucket then line order, counting every line with a
    valid bucket. ``default_bucket`` is the bucket of ``radar_csv`` rows (from the name).

    :returns: the rows, the lines rejected here (bad rank, bucket or column count) and the
        total number of rejected lines.
    """
    rows: list[Row] = []
    append = rows.append
    rejects: list[Reject] = []
    rejected = 0
    start = 0
    if layout.header:
        while start < len(lines) and _skipped(lines[start]):
            start += 1
        start += 1
    number_col = layout.rank_col if layout.rank_col is not None else layout.bucket_col
    domain_col = layout.domain_col or 0
    bucket_of = default_bucket if layout.format == "radar_csv" else None
    need = max(number_col or 0, domain_col) + 1
    is_crux = layout.bucket_col is not None
    position = 0
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if not line or line[0] == "#":
            continue
        if number_col is None:
            position += 1
            if layout.domain_col is not None:
                line = _column(line, domain_col)
            append((index + 1, line, position, bucket_of))
            continue
        parts = line.split(",")
        if '"' in line:
            parts = [part.strip().strip('"') for part in parts]
        if len(parts) < need:
            reason = f"expected {need} comma-separated fields, found {len(parts)}"
        else:
            number = parts[number_col].strip()
            if number.isdigit() and (value := int(number)) > 0:
                append((index + 1, parts[domain_col].strip(), value, value if is_crux else None))
                continue
            what = "rank" if layout.rank_col is not None else "bucket"
            reason = f"invalid {what} {number[:20]!r}"
        rejected += 1
        if len(rejects) < MAX_REJECTS_KEPT:
            rejects.append(Reject(index + 1, line[:200], reason))
    if layout.bucket_col is not None:
        rows = _rank_by_bucket(rows)
    return rows, rejects, rejected


def _skipped(line: str) -> bool:
    """Blank lines and ``#`` comments are not data."""
    stripped = line.strip()
    return not stripped or stripped[0] == "#"


def _column(line: str, col: int) -> str:
    parts = line.split(",")
    return parts[col].strip().strip('"') if col < len(parts) else ""


def _rank_by_bucket(rows: list[Row]) -> list[Row]:
    """Replace the bucket in the rank slot by the position after a stable sort by bucket."""
    counts: dict[int, int] = {}
    for _, _, bucket, _ in rows:
        counts[bucket] = counts.get(bucket, 0) + 1
    offset: dict[int, int] = {}
    total = 0
    for bucket in sorted(counts):
        offset[bucket] = total
        total += counts[bucket]
    ranked: list[Row] = []
    for line_no, field, bucket, _ in rows:
        offset[bucket] += 1
        ranked.append((line_no, field, offset[bucket], bucket))
    return ranked
