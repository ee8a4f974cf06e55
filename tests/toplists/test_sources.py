"""Named list sources (Umbrella, Majestic, CrUX, Radar) served from a loopback HTTP server."""

from __future__ import annotations

import gzip
import io
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chokepoints.errors import ListError, OfflineError
from crawler.toplists import load_list
from crawler.toplists.sources import fetch_source, resolve


@pytest.fixture
def www(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "www"
    root.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("top-1m.csv", "1,google.com\n2,www.netflix.com\n3,api.example.co.uk\n")
    (root / "umbrella.zip").write_bytes(buf.getvalue())
    (root / "majestic.csv").write_text(
        "GlobalRank,TldRank,Domain,TLD,RefSubNets\n1,1,google.com,com,1\n2,2,facebook.com,com,1\n")
    (root / "crux.csv.gz").write_bytes(gzip.compress(
        b"origin,rank\nhttps://www.example.com,1000\nhttps://shop.example.org,1000\nhttps://x.example.net,10000\n"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    server.RequestHandlerClass.log_message = lambda *a: None  # type: ignore[method-assign]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


def test_umbrella_majestic_crux(www: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHOKEPOINTS_UMBRELLA_URL", f"{www}/umbrella.zip")
    monkeypatch.setenv("CHOKEPOINTS_MAJESTIC_URL", f"{www}/majestic.csv")
    monkeypatch.setenv("CHOKEPOINTS_CRUX_URL", f"{www}/crux.csv.gz")
    cache = tmp_path / "cache"
    day = date(2026, 11, 1)
    path, url, when = fetch_source("umbrella", cache, when=day, opener=OPENER)
    assert url.endswith("/umbrella.zip") and when == day and path.name == "umbrella_2026-11-01.csv.zip"
    lst = load_list("umbrella", cache_dir=cache, list_date=day, offline=True)
    assert lst.name == "umbrella" and [e.domain for e in lst.entries] == ["google.com", "netflix.com", "example.co.uk"]
    fetch_source("majestic", cache, when=day, opener=OPENER)
    assert [e.domain for e in load_list("majestic", cache_dir=cache, list_date=day, offline=True).entries] == [
        "google.com", "facebook.com"]
    fetch_source("crux", cache, when=day, opener=OPENER)
    crux = load_list("crux", cache_dir=cache, list_date=day, offline=True)
    assert crux.name == "crux" and crux.entries[0].bucket == 1000 and crux.entries[-1].bucket == 10000


def test_offline_without_cache_and_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(OfflineError, match="pass a file"):
        fetch_source("umbrella", tmp_path, offline=True)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with pytest.raises(ListError, match="CLOUDFLARE_API_TOKEN"):
        fetch_source("radar", tmp_path, opener=OPENER)
    assert resolve("crux:us") is not None and resolve("nosuch") is None
