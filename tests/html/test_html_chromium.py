"""The HTML report in a real browser: headless Chromium driven over the DevTools protocol.

The page is opened from a ``file://`` URL with Runtime, Log and Network events on; the tests
assert that it logs no error, loads nothing but itself, shows the report's numbers as rendered,
survives markup in every network-derived string, and reads on a 390-px phone viewport
(screenshots: ``desktop.png`` and ``phone.png`` in the test's tmp dir). Skipped when Chromium
(Debian's ``chromium``, installed by ``scripts/setup.sh``) or websocket-client is missing.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analysis.html import fmt_hhi, fmt_int, fmt_pct, render_html
from tests.html.cdp import Connection, Page, chromium, find_chromium
from tests.html.reports import layer, sample_report, sample_trend, sample_whatif

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/setup.sh installs Debian's)"),
    pytest.mark.slow,
    pytest.mark.timeout(60),
]
PAYLOAD = "<script>alert(1)</script>"
ATTR = "\"'><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    pytest.importorskip("websocket", reason="websocket-client (the dev extra) not installed")
    assert CHROMIUM is not None
    with chromium(CHROMIUM, tmp_path_factory.mktemp("chromium") / "profile") as conn:
        yield conn


@pytest.fixture
def page(browser: Connection) -> Iterator[Page]:
    p = Page(browser)
    try:
        yield p
    finally:
        p.close()


def open_report(page: Page, path: Path, html: str) -> str:
    path.write_text(html, encoding="utf-8")
    url = path.as_uri()
    page.navigate(url)
    return url


def text(page: Page, selector: str) -> Any:
    return page.evaluate(f"(e => e && e.textContent.trim())(document.querySelector({json.dumps(selector)}))")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_page_is_offline_and_shows_the_report(page: Page, tmp_path: Path) -> None:
    report = sample_report()
    page.viewport(1280, 900)
    url = open_report(page, tmp_path / "report.html",
                      render_html(report, trend=sample_trend(), whatif=sample_whatif()))

    assert page.errors() == []
    assert page.requested_urls() == [url]  # the file itself, nothing else
    assert page.evaluate("document.querySelectorAll('script, link, img, iframe, object, embed').length") == 0
    assert text(page, '#headline-sites [data-metric="sites"]') == fmt_int(report["layers"]["dns"]["sites"])
    for name, data in report["layers"].items():
        top = data["providers"][0]
        assert text(page, f'#headline-{name} [data-metric="hhi"]') == fmt_hhi(data["hhi"])
        assert text(page, f'#headline-{name} [data-metric="cr3"]') == fmt_pct(data["cr"]["3"])
        assert text(page, f'#headline-{name} [data-metric="nakamoto"]') == str(data["nakamoto"])
        assert text(page, f'#headline-{name} [data-metric="top-provider"]') == top["name"]
        assert text(page, f'#headline-{name} [data-metric="top-share"]') == fmt_pct(top["share"])
        assert text(page, f'#layer-{name} dd[data-metric="hhi"]') == fmt_hhi(data["hhi"])
        for p in data["providers"][:3]:
            for metric in ("share", "dependence", "critical"):
                cell = f'#layer-{name} td[data-provider="{p["provider"]}"][data-metric="{metric}"]'
                assert text(page, cell) == fmt_pct(p[metric])
    assert text(page, '#provenance [data-field="list_sha256"]') == report["snapshot"]["list_sha256"]
    assert text(page, '#trend tr[data-snapshot="7"] td[data-metric="hhi"]') == "1,351"
    assert text(page, '#whatif td[data-scenario="0"][data-metric="down"]') == "41.2%"

    desktop = page.screenshot(tmp_path / "desktop.png")
    assert png_size(desktop)[0] == 1280 and len(desktop) > 10_000

    page.viewport(390, 844, mobile=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling of the page
    assert page.evaluate("getComputedStyle(document.querySelector('#layer-hosting .scroll')).overflowX") == "auto"
    assert page.evaluate("document.querySelector('#layer-hosting svg').getBoundingClientRect().width") <= 390
    phone = page.screenshot(tmp_path / "phone.png")
    width, height = png_size(phone)
    assert width == 390 and height > 844 and len(phone) > 10_000
    assert page.errors() == []


def test_markup_from_the_network_is_shown_as_text(page: Page, tmp_path: Path) -> None:
    report = sample_report(list_name=PAYLOAD, list_source=ATTR)
    report["layers"]["dns"] = layer([(f"{PAYLOAD}.example", PAYLOAD, 500, 500), (ATTR, ATTR, 100, 100)])
    whatif = [{"scenario": PAYLOAD, "failed": [ATTR], "down": 0.5, "degraded": 0.1}]
    url = open_report(page, tmp_path / "evil.html", render_html(report, whatif=whatif))

    assert page.errors() == []  # no console error, exception or dialog
    assert page.requested_urls() == [url]  # the <img src=x> never became an element
    assert page.evaluate("document.querySelectorAll('script, img, [onerror]').length") == 0
    assert PAYLOAD in page.evaluate("document.body.textContent")
    assert PAYLOAD in text(page, "#title")
    names = page.evaluate("""Array.from(document.querySelectorAll('#layer-dns [data-metric="name"]'))
                             .map(e => [e.dataset.provider, e.textContent])""")
    assert names == [[f"{PAYLOAD}.example", PAYLOAD], [ATTR, ATTR]]  # attribute and text round-trip
    assert page.evaluate("Array.from(document.querySelectorAll('#layer-dns svg text'))"
                         f".some(e => e.textContent === {json.dumps(PAYLOAD)})")
    assert text(page, '#provenance [data-field="list_source"]') == ATTR
    assert text(page, '#whatif td') == PAYLOAD
