"""AS number -> AS name, from a names file, so that long-tail providers (``as<N>``) have names.

Two formats are read (``.gz`` transparently): pyasn's ``asnames.json`` (``{"15169": "GOOGLE,
US"}``, written by ``pyasn_util_asnames.py``) and bgp.tools' table dump CSV
(``asn,name,class,cc`` with ``AS15169``). The names a snapshot used are stored with it (table
``as_names``), so re-attribution reads them from the database.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from chokepoints import db
from chokepoints.errors import UserError


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", "replace")


def load_as_names(path: Path) -> dict[int, str]:
    """Read an AS-names file (pyasn JSON or bgp.tools CSV); raise UserError if unusable."""
    if not path.is_file():
        raise UserError(f"AS names file not found: {path}")
    text = _text(path)
    names: dict[int, str] = {}
    if text.lstrip().startswith("{"):
        try:
            data: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"not an AS-names JSON file: {path} ({exc})") from exc
        for key, value in data.items():
            if str(key).isdigit() and value:
                names[int(key)] = str(value)
        return names
    for row in csv.DictReader(io.StringIO(text)):
        asn = (row.get("asn") or "").upper().removeprefix("AS")
        if asn.isdigit() and row.get("name"):
            names[int(asn)] = row["name"]
    if not names:
        raise UserError(f"no AS names found in {path} (expected pyasn JSON or an asn,name CSV)")
    return names


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def store_names(con: duckdb.DuckDBPyConnection, snapshot_id: int, names: dict[int, str],
                asns: Iterable[int], source: str) -> int:
    """Keep the names of the ASNs a snapshot saw; return how many were known."""
    known = sorted({a for a in asns if a in names})
    return db.append(con, "as_names", pa.table({
        "snapshot_id": pa.array([snapshot_id] * len(known), pa.int32()),
        "asn": pa.array(known, pa.int32()),
        "name": pa.array([names[a] for a in known], pa.string()),
        "source": pa.array([source] * len(known), pa.string()),
    }))
