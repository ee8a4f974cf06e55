"""The HTML page without a browser: self-contained, escaped, deterministic, the numbers in place."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from analysis.charts import SVG_NS
from analysis.html import fmt_hhi, fmt_pct, render_html
from tests.html.reports import layer, sample_provider_trend, sample_report, sample_trend, sample_whatif

PAYLOAD = "<script>alert(1)</script>"
ATTR = "\"'><img src=x onerror=alert(2)>"


class Page(HTMLParser):
    """Tags, attributes and the text of every element carrying ``data-metric``."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self._open: list[tuple[dict[str, str | None], list[str]]] = []
        self.metrics: list[tuple[dict[str, str | None], str]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if "data-metric" in a and tag not in ("section",):
            self._open.append((a, []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag in ("span", "td", "dd", "b", "div"):
            a, parts = self._open.pop()
            self.metrics.append((a, "".join(parts)))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        for _, parts in self._open:
            parts.append(data)

    def metric(self, **want: str) -> list[str]:
        return [t for a, t in self.metrics if all(a.get(f"data-{k}") == v for k, v in want.items())]


def test_page_is_self_contained_and_scriptless() -> None:
    html = render_html(sample_report(), trend=sample_trend(), whatif=sample_whatif())
    page = Page(html)
    tags = {t for t, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form", "audio", "video"}
    assert "svg" in tags and "style" in tags
    for _, attrs in page.tags:
        assert not [k for k in attrs if k.startswith("on") or k in ("src", "srcset", "action")]
        assert (attrs.get("href") or "#").startswith("#")
    assert set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", html)) <= {SVG_NS}  # the namespace loads nothing
    assert "url(" not in html and "@import" not in html
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and "default-src 'none'" in csp and "script-src" not in csp


def test_render_is_deterministic() -> None:
    args: dict[str, Any] = {"trend": sample_trend(), "whatif": sample_whatif()}
    assert render_html(sample_report(), **args) == render_html(sample_report(), **args)


def test_numbers_are_where_the_tests_and_readers_look() -> None:
    report = sample_report()
    page = Page(render_html(report))
    for name, data in report["layers"].items():
        assert page.metric(layer=name, metric="hhi") == [fmt_hhi(data["hhi"])] * 2  # headline and section
        assert page.metric(layer=name, metric="cr3") == [fmt_pct(data["cr"]["3"])] * 2
        top = data["providers"][0]
        assert page.metric(layer=name, metric="top-provider") == [top["name"]]
        assert page.metric(layer=name, metric="top-share") == [fmt_pct(top["share"])]
        for p in data["providers"][:20]:
            for m in ("share", "dependence", "critical"):
                assert page.metric(layer=name, provider=p["provider"], metric=m) == [fmt_pct(p[m])]
            assert page.metric(layer=name, provider=p["provider"], metric="sites") == [f"{p['sites']:,}"]
    # the long tail: 50 hosting providers, 20 rows, and a note saying so
    assert len([1 for t, a in page.tags if t == "tr" and a.get("data-layer") == "hosting"]) == 20
    assert "Showing the top 20 of 50 providers" in "".join(page.texts)


def test_provenance_is_complete() -> None:
    report = sample_report()
    page = Page(render_html(report))
    fields = {a.get("data-field") for t, a in page.tags if t == "dd"}
    for key in ("list_name", "list_id", "list_sha256", "list_date", "resolver", "rib_date", "registry_hash",
                "registry_version", "tool_version", "weighting", "level"):
        assert key in fields
    text = "".join(page.texts)
    assert report["snapshot"]["list_sha256"] in text and report["snapshot"]["registry_hash"] in text


def network_report() -> dict[str, Any]:
    """Every string that can come from the network holds markup."""
    report = sample_report(list_name=PAYLOAD, list_source=ATTR, resolver=ATTR, list_id=PAYLOAD)
    report["layers"]["dns"] = layer([(f"{PAYLOAD}.example", PAYLOAD, 500, 500), (ATTR, ATTR, 100, 100)])
    return report


def test_everything_from_the_network_is_escaped() -> None:
    trend = sample_trend()
    trend["points"][0]["date"] = PAYLOAD
    whatif = [{"scenario": PAYLOAD, "failed": [ATTR], "down": 0.5, "degraded": 0.1}]
    html = render_html(network_report(), trend=trend, whatif=whatif, title=PAYLOAD)
    assert PAYLOAD not in html and ATTR not in html and "<img" not in html
    page = Page(html)
    assert not [t for t, _ in page.tags if t in ("script", "img")]
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]
    text = "".join(page.texts)
    assert text.count(PAYLOAD) >= 5 and ATTR in text  # shown as text: title, list, provider, chart, what-if
    assert page.metric(layer="dns", provider=f"{PAYLOAD}.example", metric="name") == [PAYLOAD]
    assert page.metric(layer="dns", provider=ATTR, metric="name") == [ATTR]


def test_control_and_bidi_characters_are_neutralised() -> None:
    report = sample_report()
    report["layers"]["dns"] = layer([("evil", "evil\x00\u202eNAME", 10, 10)])
    html = render_html(report)
    assert "\x00" not in html and "\u202e" not in html and "evil\ufffd\ufffdNAME" in html


def test_an_empty_layer_and_a_minimal_report() -> None:
    report = sample_report()
    report["layers"]["cdn"] = {"sites": 1000, "attributed": 0, "unattributed": 1000, "hhi": 0.0,
                               "cr": {"1": 0.0, "3": 0.0, "5": 0.0}, "nakamoto": 0, "providers": []}
    page = Page(render_html(report))
    assert page.metric(layer="cdn", metric="hhi") == ["—"]
    assert "No attributed sites" in "".join(page.texts)
    minimal = {"snapshot": {"snapshot_id": 1, "list_name": "file"}, "layers": {"ca": layer([("le", "Let's Encrypt",
                                                                                               5, 5)])}}
    page = Page(render_html(minimal))
    assert page.metric(layer="ca", metric="top-provider") == ["Let's Encrypt"]
    assert "CA" in page.texts


def test_optional_sections() -> None:
    report = sample_report()
    assert 'id="trend"' not in render_html(report) and 'id="whatif"' not in render_html(report)
    page = Page(render_html(report, trend=sample_provider_trend(), whatif=sample_whatif()))
    cells = page.metric(layer="dns", metric="share", provider="aws")
    assert cells[:4] == ["12.0%", "13.0%", "14.0%", "15.0%"]  # the trend: one column per provider
    assert page.metric(scenario="0", metric="down") == ["41.2%"]
    report["buckets"] = [{"bucket": 1000, "sites": 1000, "layers": {"dns": {
        "hhi": 1234.4, "providers_count": 3, "top_provider": "cloudflare", "top_name": "Cloudflare",
        "top_share": 0.5}}}, {"bucket": 10000, "sites": 9000, "layers": {}}]
    page = Page(render_html(report))
    assert page.metric(bucket="1000", layer="dns", metric="hhi") == ["1,234"]
