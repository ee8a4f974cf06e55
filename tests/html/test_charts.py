"""The SVG charts: well-formed XML, escaped labels, empty and extreme inputs, top-N folding."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from analysis.charts import SVG_NS, Bar, bar_chart, clip, esc, line_chart, top_bars

NS = {"svg": SVG_NS}
PAYLOAD = "<script>alert(1)</script>"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{{{SVG_NS}}}svg"
    assert root.get("viewBox")
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{{{SVG_NS}}}text")]


def providers(n: int) -> list[dict[str, object]]:
    weights = [n - i for i in range(n)]
    total = sum(weights)
    return [{"provider": f"p{i}", "name": f"Provider {i}", "share": w / total} for i, w in enumerate(weights)]


def test_bar_chart_is_valid_svg_with_one_group_per_bar() -> None:
    root = parse(bar_chart(top_bars(providers(5)), label="shares"))
    bars = root.findall("svg:g", NS)
    assert [b.get("data-key") for b in bars] == ["p0", "p1", "p2", "p3", "p4"]
    assert "Provider 0" in texts(root)
    assert root.findtext("svg:title", namespaces=NS) == "shares"


def test_labels_and_attributes_are_escaped() -> None:
    bars = [Bar(label=PAYLOAD, value=0.5, key='"><svg onload=alert(1)>'), Bar(label="a & b 'q'", value=0.5)]
    svg = bar_chart(bars, label=f"chart {PAYLOAD}")
    assert "<script>" not in svg and "<svg onload" not in svg
    root = parse(svg)
    assert PAYLOAD in texts(root)  # shown as text
    assert "a & b 'q'" in texts(root)
    assert root.find("svg:g", NS).get("data-key") == '"><svg onload=alert(1)>'  # type: ignore[union-attr]
    assert not [e for e in root.iter() if e.tag.endswith("script") or any(k.startswith("on") for k in e.attrib)]
    assert root.get("aria-label") == f"chart {PAYLOAD}"


def test_characters_xml_forbids_and_bidi_controls_are_replaced() -> None:
    label = "evil\x00\x1b[31m\u202eAS"
    root = parse(bar_chart([Bar(label=label, value=1.0)], label="x"))
    assert "evil\ufffd\ufffd[31m\ufffdAS" in texts(root)
    assert esc("\ud800") == "\ufffd"


def test_empty_data_is_a_valid_chart_with_a_message() -> None:
    assert top_bars([]) == []
    root = parse(bar_chart([], label="none", empty_message="No attributed sites"))
    assert texts(root) == ["No attributed sites"]
    root = parse(line_chart([], label="none"))
    assert texts(root) == ["No snapshots"]
    parse(line_chart([{"date": "2026-01-01", "snapshot_id": 1, "value": None}], label="only a gap"))


def test_one_provider_fills_the_track() -> None:
    bars = top_bars([{"provider": "cloudflare", "name": "Cloudflare", "share": 1.0}])
    assert bars == [Bar(label="Cloudflare", value=1.0, key="cloudflare")]
    root = parse(bar_chart(bars, label="x", width=360))
    fill = [r for r in root.iter(f"{{{SVG_NS}}}rect") if r.get("class") == "fill"]
    assert float(fill[0].get("width", "0")) == pytest.approx(360)
    assert "100.0%" in texts(root)


def test_a_hundred_providers_fold_into_a_labelled_others_bar() -> None:
    ps = providers(100)
    bars = top_bars(list(reversed(ps)), top=10)  # input order does not matter
    assert [b.key for b in bars[:10]] == [f"p{i}" for i in range(10)]
    others = bars[10]
    assert len(bars) == 11 and others.aggregate and others.key == ""
    assert "90 others" in others.label and "display only" in others.label
    assert others.value == pytest.approx(sum(float(p["share"]) for p in ps[10:]))  # type: ignore[arg-type]
    assert sum(b.value for b in bars) == pytest.approx(1.0)
    root = parse(bar_chart(bars, label="x"))
    agg = root.findall("svg:g[@data-aggregate='others']", NS)
    assert len(agg) == 1
    label = agg[0].find("svg:text[@class='label']", NS)
    assert label is not None and label.get("font-style") == "italic" and "display only" in (label.text or "")
    assert agg[0].find("svg:rect[@class='fill']", NS).get("fill") == "#9ca3af"  # type: ignore[union-attr]


def test_a_single_leftover_provider_is_shown_not_folded() -> None:
    bars = top_bars(providers(11), top=10)
    assert len(bars) == 11 and not any(b.aggregate for b in bars)


def test_long_labels_are_clipped_with_the_full_name_in_the_tooltip() -> None:
    name = "AMAZON-02 - Amazon.com, Inc., US (a very long AS organisation name)"
    root = parse(bar_chart([Bar(label=name, value=0.2)], label="x"))
    label = root.find("svg:g/svg:text[@class='label']", NS)
    assert label is not None and label.text is not None and label.text.endswith("…") and len(label.text) <= 38
    assert root.findtext("svg:g/svg:title", namespaces=NS) == f"{name}: 20.0%"


def test_line_chart_spaces_points_by_date_and_formats_values() -> None:
    points = [{"date": "2026-01-01", "snapshot_id": 1, "value": 1000.0},
              {"date": "2026-01-02", "snapshot_id": 2, "value": 1500.0},
              {"date": "2026-01-11", "snapshot_id": 3, "value": 1250.0}]
    root = parse(line_chart(points, label="HHI of DNS", value_format=lambda v: f"{v:,.0f}"))
    circles = list(root.iter(f"{{{SVG_NS}}}circle"))
    xs = [float(c.get("cx", "0")) for c in circles]
    assert (xs[1] - xs[0]) * 9 == pytest.approx(xs[2] - xs[1])  # 1 day, then 9 days
    assert [c.get("data-value") for c in circles] == ["1,000", "1,500", "1,250"]
    assert [t for t in texts(root) if "-" not in t] == ["0", "500", "1,000", "1,500"]  # round steps from 0


def test_line_chart_one_point_and_escaped_dates() -> None:
    root = parse(line_chart([{"date": PAYLOAD, "snapshot_id": 4, "value": 0.25}], label="x"))
    assert len(list(root.iter(f"{{{SVG_NS}}}circle"))) == 1
    assert not list(root.iter(f"{{{SVG_NS}}}polyline"))
    assert clip(PAYLOAD, 24) in texts(root)  # the x label, clipped
    assert PAYLOAD in (root.findtext("svg:g/svg:circle/svg:title", namespaces=NS) or "")


def test_line_chart_draws_one_line_per_provider_with_a_legend() -> None:
    points = [{"snapshot_id": s, "list_date": f"2026-0{s}-01", "provider": p, "value": v}
              for s in (1, 2, 3) for p, v in (("cloudflare", 0.3), (PAYLOAD, 0.1))]
    root = parse(line_chart(points, label="share"))
    series = root.findall("svg:g[@class='series']", NS)
    assert [g.get("data-series") for g in series] == ["cloudflare", PAYLOAD]
    assert {g.find("svg:polyline", NS).get("stroke") for g in series} == {"#2563eb", "#c2410c"}  # type: ignore[union-attr]
    assert "cloudflare" in texts(root) and clip(PAYLOAD, 22) in texts(root)  # the legend
