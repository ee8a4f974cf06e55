"""Tranco downloads from a loopback server that answers the way tranco-list.eu does.

Shapes served (see crawler/toplists/tranco.py): ``/api/lists/date/<date|latest>`` JSON with
``list_id``; ``/download/<ID>/1000000`` a ``rank,domain`` csv; ``/top-1m.csv.zip`` a zip of
``top-1m.csv``.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chokepoints.errors import ListError, OfflineError
from crawler.toplists import load_list
from crawler.toplists.naming import ListIds
from crawler.toplists.tranco import USER_AGENT, tranco_list

from .conftest import zip_bytes

LISTS = {
    "TEST1": b"1,google.com\r\n2,www.youtube.com\r\n3,facebook.com\r\n4,bbc.co.uk\r\n",
    "TEST0": b"1,google.com\r\n2,baidu.com\r\n",
    "HTML1": b"<!doctype html><title>Tranco</title>",
}
DATES = {"2026-04-21": "TEST1", "2026-04-20": "TEST0"}
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class FakeTranco:
    """What the server served, and switches for failure modes."""

    base: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)
    api_down: bool = False


@pytest.fixture
def tranco() -> Iterator[FakeTranco]:
    state = FakeTranco()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("User-Agent", "")))
            parts = self.path.strip("/").split("/")
            if parts[:3] == ["api", "lists", "date"] and len(parts) == 4 and not state.api_down:
                key = "2026-04-21" if parts[3] == "latest" else parts[3]
                if key not in DATES:
                    return self._send(404, b'{"message": "no list"}', "application/json")
                meta = {
                    "list_id": DATES[key],
                    "available": True,
                    "download": f"{state.base}/download/{DATES[key]}/1000000",
                    "created_on": f"{key}T00:00:12.345",
                }
                return self._send(200, json.dumps(meta).encode(), "application/json")
            if parts[:1] == ["download"] and len(parts) == 3 and parts[1] in LISTS:
                return self._send(200, LISTS[parts[1]], "text/csv")
            if parts == ["top-1m.csv.zip"]:
                body = zip_bytes("top-1m.csv", LISTS["TEST1"].decode())
                return self._send(200, body, "application/zip")
            self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    state.base = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _paths(state: FakeTranco) -> list[str]:
    return [path for path, _ in state.requests]


def test_fetch_by_id_then_reuse_cache(tranco: FakeTranco, tmp_path: Path) -> None:
    got = tranco_list(cache_dir=tmp_path, list_id="TEST1", base=tranco.base, opener=NO_PROXY)
    assert got.path == tmp_path / "tranco_TEST1.csv"
    assert got.path.read_bytes() == LISTS["TEST1"]  # stored as served
    assert got.url == f"{tranco.base}/download/TEST1/1000000"
    assert _paths(tranco) == ["/download/TEST1/1000000"]
    assert tranco.requests[0][1] == USER_AGENT
    again = tranco_list(cache_dir=tmp_path, list_id="TEST1", base=tranco.base, opener=NO_PROXY)
    assert again == got
    assert len(tranco.requests) == 1

    tl = load_list("tranco", list_id="TEST1", cache_dir=tmp_path, offline=True)
    assert (tl.name, tl.list_id, tl.format) == ("tranco", "TEST1", "rank_domain")
    assert tl.source == got.url
    assert tl.domains == ("google.com", "youtube.com", "facebook.com", "bbc.co.uk")
    assert tl.sha256 == hashlib.sha256(LISTS["TEST1"]).hexdigest()


def test_fetch_by_date_through_the_api(tranco: FakeTranco, tmp_path: Path) -> None:
    got = tranco_list(
        cache_dir=tmp_path, list_date=date(2026, 4, 20), base=tranco.base, opener=NO_PROXY
    )
    assert (got.list_id, got.list_date) == ("TEST0", date(2026, 4, 20))
    assert _paths(tranco) == ["/api/lists/date/2026-04-20", "/download/TEST0/1000000"]
    # the sidecar maps the date to the ID offline from now on
    tl = load_list("tranco", list_date=date(2026, 4, 20), cache_dir=tmp_path, offline=True)
    assert (tl.list_id, tl.list_date) == ("TEST0", date(2026, 4, 20))
    assert tl.domains == ("google.com", "baidu.com")


def test_latest_through_the_api(tranco: FakeTranco, tmp_path: Path) -> None:
    got = tranco_list(cache_dir=tmp_path, base=tranco.base, opener=NO_PROXY)
    assert (got.list_id, got.list_date) == ("TEST1", date(2026, 4, 21))
    assert _paths(tranco) == ["/api/lists/date/latest", "/download/TEST1/1000000"]


def test_latest_falls_back_to_the_zip(tranco: FakeTranco, tmp_path: Path) -> None:
    tranco.api_down = True
    got = tranco_list(cache_dir=tmp_path, base=tranco.base, opener=NO_PROXY)
    assert (got.list_id, got.url) == (None, f"{tranco.base}/top-1m.csv.zip")
    assert got.path.suffix == ".zip"
    tl = load_list(str(got.path))
    assert tl.domains == ("google.com", "youtube.com", "facebook.com", "bbc.co.uk")


def test_ids_file_maps_the_date_without_the_api(tranco: FakeTranco, tmp_path: Path) -> None:
    ids = ListIds({date(2026, 4, 21): "TEST1"}, {"TEST1": date(2026, 4, 21)}, "TEST1")
    got = tranco_list(
        cache_dir=tmp_path,
        list_date=date(2026, 4, 21),
        list_ids=ids,
        base=tranco.base,
        opener=NO_PROXY,
    )
    assert (got.list_id, got.list_date) == ("TEST1", date(2026, 4, 21))
    assert _paths(tranco) == ["/download/TEST1/1000000"]
    latest = tranco_list(cache_dir=tmp_path, list_ids=ids, offline=True, base=tranco.base)
    assert (latest.list_id, latest.list_date) == ("TEST1", date(2026, 4, 21))


def test_load_list_downloads_through_the_environment_url(
    tranco: FakeTranco, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHOKEPOINTS_TRANCO_URL", tranco.base)
    for proxy in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    tl = load_list("tranco", list_id="TEST0", cache_dir=tmp_path, top=1)
    assert (tl.list_id, tl.domains) == ("TEST0", ("google.com",))


def test_unknown_id_or_date_is_a_list_error(tranco: FakeTranco, tmp_path: Path) -> None:
    with pytest.raises(ListError, match="HTTP 404"):
        tranco_list(cache_dir=tmp_path, list_id="NOPE1", base=tranco.base, opener=NO_PROXY)
    with pytest.raises(ListError, match="HTTP 404"):
        tranco_list(
            cache_dir=tmp_path, list_date=date(1999, 1, 1), base=tranco.base, opener=NO_PROXY
        )
    with pytest.raises(ListError, match="not a Tranco list ID"):
        tranco_list(cache_dir=tmp_path, list_id="../x", base=tranco.base, opener=NO_PROXY)


def test_html_instead_of_a_list_is_not_cached(tranco: FakeTranco, tmp_path: Path) -> None:
    with pytest.raises(ListError, match="not a list"):
        tranco_list(cache_dir=tmp_path, list_id="HTML1", base=tranco.base, opener=NO_PROXY)
    assert not list(tmp_path.iterdir())


def test_offline_without_cache(tmp_path: Path) -> None:
    with pytest.raises(OfflineError, match="pass a file with --list PATH") as info:
        load_list("tranco", cache_dir=tmp_path, offline=True)
    assert "\n" not in str(info.value)
    with pytest.raises(OfflineError, match="list ABCDE not in"):
        load_list("tranco", list_id="ABCDE", cache_dir=tmp_path, offline=True)


def test_no_network_is_an_offline_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OfflineError, match=r"cannot download the Tranco list \(no network"):
        tranco_list(
            cache_dir=tmp_path,
            list_id="TEST1",
            base=f"http://127.0.0.1:{port}",
            opener=NO_PROXY,
            timeout=5,
        )


def test_bad_base_url_and_unwritable_cache(tranco: FakeTranco, tmp_path: Path) -> None:
    with pytest.raises(ListError, match="bad Tranco URL"):
        tranco_list(cache_dir=tmp_path, list_id="TEST1", base="nowhere", opener=NO_PROXY)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ListError, match="cannot write the list cache"):
        tranco_list(cache_dir=blocker / "sub", list_id="TEST1", base=tranco.base, opener=NO_PROXY)
