"""Where ASN databases come from: RouteViews MRT dumps (pyasn's parser) and CAIDA pfx2as."""

from __future__ import annotations

import bz2
import gzip
import struct
import threading
import urllib.request
from collections.abc import Iterator
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler import asn
from crawler.asn_sources import convert_mrt, fetch_pfx2as, pfx2as_lines, pick_file


def whole_records(path: Path, out: Path) -> Path:
    """The shared RIB excerpts are the first MB of a dump: keep their complete MRT records."""
    data = bz2.BZ2Decompressor().decompress(path.read_bytes())
    pos = 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack("!I", data[pos + 8:pos + 12])
        if pos + 12 + length > len(data):
            break
        pos += 12 + length
    out.write_bytes(bz2.compress(data[:pos]))
    return out


def test_convert_a_real_routeviews_rib(shared_data: Path, tmp_path: Path) -> None:
    rib = whole_records(shared_data / "ip2asn" / "pyasn" / "rib.20140523.0600_firstMB.bz2", tmp_path / "rib.bz2")
    n = convert_mrt([rib], tmp_path / "ipasn_20140523.dat")
    assert n > 1000
    db = asn.open_database(tmp_path / "ipasn_20140523.dat")
    assert db.date == date(2014, 5, 23)
    # The excerpt holds the start of the table (1.0.0.0/24 onwards, in address order).
    first = next(line for line in (tmp_path / "ipasn_20140523.dat").read_text().splitlines()
                 if not line.startswith(";"))
    prefix = first.split("\t")[0]
    assert db.lookup(prefix.split("/")[0])[1] == prefix


def test_pfx2as_lines() -> None:
    lines = ["1.0.0.0\t24\t13335\n", "1.0.4.0\t22\t38803_56203\n", "8.8.8.0\t24\t15169,36040\n",
             "2001:db8::\t32\t64500\n", "junk\n", "9.9.9.0\t24\tx\n"]
    assert list(pfx2as_lines(lines)) == ["1.0.0.0/24\t13335\n", "1.0.4.0/22\t38803\n", "8.8.8.0/24\t15169\n",
                                         "2001:db8::/32\t64500\n"]


LOG = """# seqnum timestamp file
1\t1700000000\t2026/03/routeviews-rv2-20260330-1200.pfx2as.gz
2\t1700086400\t2026/03/routeviews-rv2-20260331-1200.pfx2as.gz
3\t1700172800\t2026/04/routeviews-rv2-20260402-1200.pfx2as.gz
"""


def test_pick_file() -> None:
    assert pick_file(LOG, date(2026, 4, 1)) == ("2026/03/routeviews-rv2-20260331-1200.pfx2as.gz", date(2026, 3, 31))
    assert pick_file(LOG, date(2020, 1, 1)) is None


@pytest.fixture
def caida(tmp_path: Path) -> Iterator[str]:
    """A loopback HTTP server laid out like CAIDA's prefix2as folders."""
    root = tmp_path / "www"
    v4, v6 = root / "v4", root / "v6"
    (v4 / "2026" / "03").mkdir(parents=True)
    (v6 / "2026" / "03").mkdir(parents=True)
    (v4 / "pfx2as-creation.log").write_text(LOG)
    (v6 / "pfx2as-creation.log").write_text("1\t1\t2026/03/routeviews-rv6-20260331-1200.pfx2as.gz\n")
    with gzip.open(v4 / "2026/03/routeviews-rv2-20260331-1200.pfx2as.gz", "wt") as fh:
        fh.write("3.5.0.0\t16\t16509\n104.16.0.0\t13\t13335\n")
    with gzip.open(v6 / "2026/03/routeviews-rv6-20260331-1200.pfx2as.gz", "wt") as fh:
        fh.write("2606:4700::\t32\t13335\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    server.RequestHandlerClass.log_message = lambda *a: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_fetch_pfx2as_from_loopback(caida: str, tmp_path: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({})).open
    path, source, day = fetch_pfx2as(date(2026, 4, 1), tmp_path / "cache", opener=opener,
                                     bases=(caida + "v4/", caida + "v6/"))
    assert day == date(2026, 3, 31)
    assert "routeviews-rv2-20260331" in source and "routeviews-rv6-20260331" in source
    db = asn.open_database(path)
    assert db.lookup("104.17.1.1") == (13335, "104.16.0.0/13")
    assert db.lookup("2606:4700::6810:1") == (13335, "2606:4700::/32")
    # The cache answers the same date offline.
    again, _, _ = fetch_pfx2as(date(2026, 4, 1), tmp_path / "cache", offline=True)
    assert again == path
