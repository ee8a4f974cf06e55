"""Downloading the current feeds: served from a loopback HTTP server, never the internet."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from chokepoints.errors import OfflineError
from crawler.ranges.feeds import Catalogue, load_catalogue
from crawler.ranges.store import LoadStatus, fetch_current, load_folder
from tests.ranges.helpers import aws_json

TODAY = date(2026, 5, 3)


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves a folder without logging every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def www(tmp_path: Path) -> Iterator[str]:
    """A loopback HTTP server holding one current file per feed (port 0, address read back)."""
    root = tmp_path / "www"
    aws_json(root / "ip-ranges.json",
             [("3.5.140.0/22", "ap-northeast-2", "S3"), ("2600:1f00::/24", "GLOBAL", "AMAZON")],
             create="2026-05-01-08-00-00")
    (root / "ips-v4").write_text("104.16.0.0/13\n173.245.48.0/20")   # no final newline: concatenation must cope
    (root / "ips-v6").write_text("2606:4700::/32\n")
    (root / "public-ip-list").write_text(json.dumps({"addresses": ["151.101.0.0/16"], "ipv6_addresses": []}))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def catalogue(tmp_path: Path, base: str) -> Catalogue:
    text = f"""
[[feed]]
id = "aws-ip-ranges"
provider = ["aws"]
format = "aws"
urls = ["{base}ip-ranges.json"]
generic_services = ["AMAZON"]

[[feed]]
id = "cloudflare"
provider = ["cloudflare"]
format = "cidr"
urls = ["{base}ips-v4", "{base}ips-v6"]

[[feed]]
id = "fastly"
provider = ["fastly"]
format = "fastly"
urls = ["{base}public-ip-list"]

[[feed]]
id = "oracle"
provider = ["oracle"]
format = "oracle"
urls = ["{base}missing.json"]

[[feed]]
id = "azure-service-tags"
provider = ["microsoft"]
format = "azure"
url_source = "https://www.microsoft.com/en-us/download/details.aspx?id=56519"
"""
    path = tmp_path / "feeds.toml"
    path.write_text(text)
    return load_catalogue(path)


def opener() -> Any:
    return urllib.request.build_opener(urllib.request.ProxyHandler({})).open


def test_fetch_current_from_loopback(con: duckdb.DuckDBPyConnection, www: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cat = catalogue(tmp_path, www)
    got = {r.feed: r for r in fetch_current(con, cache, opener(), cat, today=TODAY)}
    assert (got["aws-ip-ranges"].status, got["aws-ip-ranges"].published, got["aws-ip-ranges"].prefixes) == (
        LoadStatus.NEW, date(2026, 5, 1), 2)                       # createDate, not today
    assert (got["cloudflare"].status, got["cloudflare"].published, got["cloudflare"].prefixes) == (
        LoadStatus.NEW, TODAY, 3)                                   # v4 + v6 lists as one version
    assert got["fastly"].status is LoadStatus.NEW
    assert got["oracle"].status is LoadStatus.FAILED and "404" in (got["oracle"].reason or "")
    assert got["azure-service-tags"].status is LoadStatus.SKIPPED
    assert "details.aspx?id=56519" in (got["azure-service-tags"].reason or "")
    assert sorted(p.name for p in cache.iterdir()) == [
        "aws-ip-ranges_2026-05-01.json", "cloudflare_2026-05-03.txt", "fastly_2026-05-03.json"]
    # Fetching again, or loading the cache folder, adds nothing.
    again = fetch_current(con, cache, opener(), cat, today=TODAY)
    assert {r.status for r in again if r.feed in ("aws-ip-ranges", "cloudflare", "fastly")} == {LoadStatus.ALREADY}
    assert {r.status for r in load_folder(con, cache, catalogue=cat)} == {LoadStatus.ALREADY}
    assert con.execute("select count(*) from range_feeds").fetchall() == [(3,)]


def test_loopback_only_refuses_the_internet_before_any_download(con: duckdb.DuckDBPyConnection,
                                                               tmp_path: Path) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing may be downloaded")

    with pytest.raises(OfflineError, match="CHOKEPOINTS_LOOPBACK_ONLY"):
        fetch_current(con, tmp_path / "cache", never, load_catalogue(), today=TODAY)


def test_offline_is_one_clear_error(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHOKEPOINTS_LOOPBACK_ONLY")

    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("no route to host")

    with pytest.raises(OfflineError, match="cannot download range feeds"):
        fetch_current(con, tmp_path / "cache", offline, load_catalogue(), today=TODAY)
