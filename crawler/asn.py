"""Address -> origin AS and prefix, from a dated pyasn database.

Scrapy-free: the database object is passed in. A snapshot records which database it used
(path, sha256, date) so every number stays reproducible.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyasn

from chokepoints.errors import UserError

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")


@dataclass(frozen=True, slots=True)
class AsnDatabase:
    """An opened pyasn database and its provenance."""

    path: str
    sha256: str
    date: date | None
    source: str
    db: Any  # pyasn.pyasn (untyped C extension)

    def lookup(self, ip: str) -> tuple[int | None, str | None]:
        """Return ``(asn, prefix)`` for one address; ``(None, None)`` when unrouted."""
        try:
            asn, prefix = self.db.lookup(ip)
        except ValueError:
            return None, None
        return asn, prefix


def date_from_name(name: str) -> date | None:
    """Read a ``YYYYMMDD`` (or ``YYYY-MM-DD``) date out of a file name, if there is one."""
    m = _DATE_IN_NAME.search(Path(name).name)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def open_database(path: Path, *, source: str | None = None, day: date | None = None) -> AsnDatabase:
    """Open a pyasn ``.dat`` or ``.dat.gz`` file; raise :class:`UserError` if unusable."""
    if not path.is_file():
        raise UserError(f"ASN database not found: {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        db = pyasn.pyasn(str(path))
    except Exception as exc:  # pyasn raises bare Exceptions on bad files
        raise UserError(f"not a pyasn database: {path} ({exc})") from exc
    return AsnDatabase(
        path=str(path), sha256=digest, date=day or date_from_name(path.name),
        source=source or str(path), db=db,
    )


def origins_table(db: AsnDatabase, snapshot_id: int, ips: Iterable[str]) -> pa.Table:
    """Look up every address; return rows for the ``ip_origins`` table."""
    out: dict[str, list[Any]] = {k: [] for k in ("snapshot_id", "ip", "family", "ip_num", "prefix", "asn")}
    for ip in ips:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            continue
        asn, prefix = db.lookup(ip)
        out["snapshot_id"].append(snapshot_id)
        out["ip"].append(addr.compressed)
        out["family"].append(addr.version)
        out["ip_num"].append(str(int(addr)))  # DuckDB casts the text to UHUGEINT
        out["prefix"].append(prefix)
        out["asn"].append(asn)
    return pa.table(out)
