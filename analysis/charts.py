"""Small SVG charts for the HTML report, written as strings by plain Python.

Why SVG from Python rather than matplotlib, Vega or a JavaScript charting library:

* **no heavy dependencies** — the analysis side stays importable with the standard library
  (matplotlib pulls in NumPy, Pillow and font caches; Vega needs a JavaScript runtime);
* **deterministic** — the same report dict gives byte-identical markup, so a published page can
  be diffed and regenerated, and tests can assert on it;
* **offline and self-contained** — the SVG is inlined in the page: no fonts, scripts or images
  fetched from anywhere, no renderer to install, nothing that runs when the page is opened;
* **escapable** — every label comes from our own code path through :func:`esc`, so a provider
  name taken from an AS name or a host name can never become markup (a plotting library's text
  handling and its SVG backend's escaping would be one more thing to trust).

Every chart is a standalone, well-formed XML ``<svg>`` element (with the SVG namespace) that
scales to its container through its ``viewBox``; the page's CSS may restyle it through the
``class`` names, the presentation attributes are the defaults.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

SVG_NS = "http://www.w3.org/2000/svg"

#: Characters XML 1.0 forbids (C0/C1 controls, surrogates, non-characters) and the Unicode
#: bidirectional controls, with which a name from the network could reorder the text around it.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def esc(value: object) -> str:
    """Escape any value for an HTML/SVG text node or a quoted attribute.

    ``html.escape`` with ``quote=True`` (``& < > " '``), after replacing the characters an XML
    parser rejects and the bidi controls with U+FFFD, so the result is valid in HTML and in
    standalone SVG alike.
    """
    return html.escape(_UNSAFE.sub("\ufffd", str(value)), quote=True)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (before escaping, never inside an entity)."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def pct(x: float) -> str:
    """A fraction as a percentage with one decimal (``0.2398`` → ``24.0%``)."""
    return f"{100.0 * x:.1f}%"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: ``value`` is a fraction 0..1 drawn against the full 0..100% scale.

    ``aggregate`` marks a bar that sums several providers for display only (the "others" bar);
    the metrics never lump providers together.
    """

    label: str
    value: float
    key: str = ""
    aggregate: bool = False


def top_bars(providers: Sequence[Mapping[str, Any]], *, top: int = 10, metric: str = "share") -> list[Bar]:
    """The ``top`` providers by ``metric`` as bars, the rest folded into one labelled "others" bar.

    :param providers: the report's provider rows (``provider``, ``name``, ``share``, ...),
        in any order.
    :param top: bars shown before folding; when exactly one provider would be folded it is
        shown instead (an "others" bar of one provider says less than its name).
    :param metric: which fraction to draw: ``share``, ``dependence`` or ``critical``.
    """
    rows = sorted(providers, key=lambda p: (-float(p.get(metric) or 0.0), str(p.get("provider", ""))))
    if len(rows) <= top + 1:
        shown, rest = rows, []
    else:
        shown, rest = rows[:top], rows[top:]
    bars = [Bar(label=str(p.get("name") or p.get("provider", "")), value=float(p.get(metric) or 0.0),
                key=str(p.get("provider", ""))) for p in shown]
    if rest:
        total = sum(float(p.get(metric) or 0.0) for p in rest)
        bars.append(Bar(label=f"{len(rest):,} others combined (display only)",
                        value=total, key="", aggregate=True))
    return bars


def _svg_open(width: float, height: float, label: str, css_class: str) -> str:
    return (f'<svg xmlns="{SVG_NS}" class="{esc(css_class)}" viewBox="0 0 {width:g} {height:g}" '
            f'width="{width:g}" height="{height:g}" role="img" aria-label="{esc(label)}" '
            f'preserveAspectRatio="xMinYMin meet" font-family="system-ui, -apple-system, Segoe UI, Roboto, '
            f'sans-serif">'
            f"<title>{esc(label)}</title>")


def _empty(width: float, label: str, message: str, css_class: str) -> str:
    return (_svg_open(width, 40, label, css_class)
            + f'<text class="empty" x="{width / 2:g}" y="24" text-anchor="middle" font-size="13" '
              f'fill="#6b7280">{esc(message)}</text></svg>')


BAR_WIDTH = 360
BAR_ROW = 38
LABEL_CHARS = 38


def bar_chart(bars: Sequence[Bar], *, label: str, color: str = "#2563eb", width: int = BAR_WIDTH,
              value_format: Callable[[float], str] = pct, empty_message: str = "No data") -> str:
    """Horizontal bars, one row each: the name and value above a bar on a 0..100% track.

    Names sit above their bars (not beside them) so that the chart stays legible when scaled
    down to a phone's width. The aggregate bar is grey and its label italic.

    :param label: the chart's accessible name (``<title>`` and ``aria-label``).
    :param color: fill of the ordinary bars (a CSS colour from our code, not from data).
    """
    if not bars:
        return _empty(width, label, empty_message, "chart bars")
    height = len(bars) * BAR_ROW + 4
    out = [_svg_open(width, height, label, "chart bars")]
    for i, bar in enumerate(bars):
        y = i * BAR_ROW
        value = min(max(bar.value, 0.0), 1.0)
        text = clip(bar.label, LABEL_CHARS)
        fill = "#9ca3af" if bar.aggregate else color
        attrs = ' data-aggregate="others"' if bar.aggregate else f' data-key="{esc(bar.key)}"'
        style = ' font-style="italic"' if bar.aggregate else ""
        out.append(
            f'<g class="bar{" others" if bar.aggregate else ""}"{attrs}>'
            f"<title>{esc(bar.label)}: {esc(value_format(bar.value))}</title>"
            f'<text class="label" x="0" y="{y + 15}" font-size="13" fill="#1f2937"{style}>{esc(text)}</text>'
            f'<text class="value" x="{width}" y="{y + 15}" font-size="13" font-weight="600" '
            f'text-anchor="end" fill="#1f2937">{esc(value_format(bar.value))}</text>'
            f'<rect class="track" x="0" y="{y + 21}" width="{width}" height="10" rx="3" fill="#e5e7eb"/>'
            f'<rect class="fill" x="0" y="{y + 21}" width="{width * value:.2f}" height="10" rx="3" '
            f'fill="{esc(fill)}"/>'
            "</g>")
    out.append("</svg>")
    return "".join(out)


def _nice_ceiling(x: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``x`` (> 0)."""
    exp = math.floor(math.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0**exp >= x - 1e-12:
            return m * 10.0**exp
    return 10.0 ** (exp + 1)  # pragma: no cover - the loop always returns


def _as_date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def point_date(point: Mapping[str, Any]) -> str | None:
    """A trend point's date: ``date``, else the list's date, else the crawl's start day."""
    for key in ("date", "list_date", "started_at"):
        if point.get(key):
            return str(point[key])[:10] if key == "started_at" else str(point[key])
    return None


def _number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.3g}"


#: Line colours of a multi-series chart (one per provider), in order.
PALETTE = ("#2563eb", "#c2410c", "#0f766e", "#7c3aed", "#be185d", "#4d7c0f", "#a16207", "#475569")
LINE_WIDTH = 360
LINE_HEIGHT = 210


def line_chart(points: Iterable[Mapping[str, Any]], *, label: str, color: str = "#2563eb",
               value_format: Callable[[float], str] = _number, width: int = LINE_WIDTH,
               height: int = LINE_HEIGHT, empty_message: str = "No snapshots") -> str:
    """Lines over time: ``points`` are ``{"date", "snapshot_id", "value"}`` mappings.

    Points that name a ``provider`` are drawn as one line per provider (colours from
    :data:`PALETTE`, with a legend); otherwise one line in ``color``. Dates come from
    :func:`point_date`. The x axis is calendar time when every point has an ISO date (irregular
    crawls keep their spacing), else the snapshots' order. The y axis starts at zero
    (concentration indices read wrong on a truncated axis). Each point carries a ``<title>``
    with its date, snapshot and value.
    """
    pts = [p for p in points if p.get("value") is not None]
    if not pts:
        return _empty(width, label, empty_message, "chart line")
    keyed = [(p.get("snapshot_id", f"#{i}"), p) for i, p in enumerate(pts)]
    groups: dict[str, list[tuple[object, Mapping[str, Any]]]] = {}
    for k, p in keyed:
        groups.setdefault(str(p.get("provider") or ""), []).append((k, p))
    multi = len(groups) > 1 or "" not in groups
    colors = {name: (PALETTE[i % len(PALETTE)] if multi else color) for i, name in enumerate(groups)}

    # One x position per snapshot, shared by every line.
    order: dict[object, Mapping[str, Any]] = {}
    for k, p in keyed:
        order.setdefault(k, p)
    snaps = list(order)
    dates = {k: _as_date(point_date(p)) for k, p in order.items()}
    left, right, top, plot_bottom = 52.0, 14.0, 14.0, 34.0
    legend_rows = (len(groups) + 1) // 2 if multi else 0
    total_h = height + legend_rows * 20
    plot_w, plot_h = width - left - right, height - top - plot_bottom
    known = [d for d in dates.values() if d is not None]
    x_of: dict[object, float]
    if len(known) == len(snaps) and len(set(known)) > 1:
        t0, t1 = min(known).toordinal(), max(known).toordinal()
        x_of = {k: left + plot_w * (d.toordinal() - t0) / (t1 - t0) for k, d in dates.items() if d is not None}
    elif len(snaps) > 1:
        x_of = {k: left + plot_w * i / (len(snaps) - 1) for i, k in enumerate(snaps)}
    else:
        x_of = {snaps[0]: left + plot_w / 2}
    values = [float(p["value"]) for p in pts]
    # y axis: a round step, at most 4 of them up to the first gridline at or above the maximum
    step = _nice_ceiling(max(values) / 4) if max(values) > 0 else 0.25
    steps = max(1, math.ceil(max(values) / step - 1e-9))
    y_max = step * steps

    def y_of(v: float) -> float:
        return top + plot_h * (1.0 - min(max(v, 0.0), y_max) / y_max)

    out = [_svg_open(width, total_h, label, "chart line")]
    for i in range(steps + 1):  # horizontal grid with y labels
        y = top + plot_h * (1.0 - i / steps)
        out.append(f'<line class="grid" x1="{left:g}" x2="{width - right:g}" y1="{y:.2f}" y2="{y:.2f}" '
                   f'stroke="#e5e7eb" stroke-width="1"/>'
                   f'<text class="tick" x="{left - 6:g}" y="{y + 4:.2f}" font-size="12" text-anchor="end" '
                   f'fill="#6b7280">{esc(value_format(step * i))}</text>')
    # x labels: the first and last snapshot, and the one nearest the middle when it has room
    ticks = sorted({0, len(snaps) - 1})
    if len(snaps) > 2:
        mid = min(range(1, len(snaps) - 1), key=lambda i: abs(x_of[snaps[i]] - (left + plot_w / 2)))
        if min(x_of[snaps[mid]] - left, left + plot_w - x_of[snaps[mid]]) > 120:  # labels ~70 wide
            ticks.insert(1, mid)
    for i in ticks:
        k = snaps[i]
        anchor = "middle" if len(snaps) == 1 else "start" if i == 0 else "end" if i == len(snaps) - 1 else "middle"
        text = point_date(order[k]) or f"#{k}"
        out.append(f'<text class="tick" x="{x_of[k]:.2f}" y="{height - 10:g}" font-size="12" '
                   f'text-anchor="{anchor}" fill="#6b7280">{esc(clip(str(text), 24))}</text>')
    for name, group in groups.items():
        c = colors[name]
        xy = [(x_of[k], y_of(float(p["value"]))) for k, p in group]
        out.append(f'<g class="series" data-series="{esc(name)}">')
        if len(xy) > 1:
            coords = " ".join(f"{x:.2f},{y:.2f}" for x, y in xy)
            out.append(f'<polyline points="{coords}" fill="none" stroke="{esc(c)}" stroke-width="2.5" '
                       'stroke-linejoin="round" stroke-linecap="round"/>')
        for (_, p), (x, y) in zip(group, xy, strict=True):
            v = value_format(float(p["value"]))
            tip = " ".join(t for t in (name, point_date(p) or "", f"snapshot {p.get('snapshot_id', '?')}:", v) if t)
            out.append(f'<circle class="point" cx="{x:.2f}" cy="{y:.2f}" r="4" fill="{esc(c)}" '
                       f'data-snapshot="{esc(p.get("snapshot_id", ""))}" data-value="{esc(v)}">'
                       f"<title>{esc(tip)}</title></circle>")
        out.append("</g>")
    for i, name in enumerate(groups if multi else ()):
        x, y = (i % 2) * width / 2, height + (i // 2) * 20 + 4
        out.append(f'<g class="legend"><rect x="{x:g}" y="{y:g}" width="12" height="12" rx="2" '
                   f'fill="{esc(colors[name])}"/><text class="label" x="{x + 18:g}" y="{y + 11:g}" font-size="13" '
                   f'fill="#1f2937">{esc(clip(name, 22))}</text></g>')
    out.append("</svg>")
    return "".join(out)
