"""Fixtures for the top-list tests: small lists written to tmp_path, the shared real lists."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

TOPLISTS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "toplists"

WriteList = Callable[..., Path]


@pytest.fixture(scope="session")
def toplists() -> Path:
    """The real lists in ``../shared/data/toplists``; skips when this checkout has none."""
    if not TOPLISTS.is_dir():
        pytest.skip(f"real top lists not found at {TOPLISTS} (outside the project's workspace)")
    return TOPLISTS


def zip_bytes(member: str, text: str) -> bytes:
    """A zip holding one file, the way Tranco ships ``top-1m.csv.zip``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text)
    return buffer.getvalue()


@pytest.fixture
def write_list(tmp_path: Path) -> WriteList:
    """Write ``text`` to ``tmp_path/name``, gzipped or zipped when the name says so."""

    def write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        data = text.encode() if isinstance(text, str) else text
        if name.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        elif name.endswith(".zip"):
            data = zip_bytes(name.removesuffix(".zip"), data.decode())
        path.write_bytes(data)
        return path

    return write
