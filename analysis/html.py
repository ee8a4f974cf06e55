"""Render a snapshot report as one self-contained HTML page.

The page is a single file that can be mailed, published or dropped into a website: inline CSS,
charts as inline SVG (:mod:`analysis.charts`), no JavaScript, no fonts, images or anything else
fetched from anywhere; a Content-Security-Policy ``<meta>`` forbids scripts and every network
load, so even a future slip in escaping could not run code or call out. It holds:

* headline numbers: sites measured, and per layer HHI (with its concentration band), CR-3,
  the Nakamoto coefficient and the top provider with its share;
* an optional trend line (one metric of one layer over snapshots) and what-if outage table;
* per layer: all summary metrics, a bar chart of the top providers' market shares (the long
  tail folded into one bar labelled as a display aggregation) and a table of providers;
* the snapshot's provenance: list name, ID, sha256 and date, resolver, RIB, registry version and
  hash, tool version, weighting and level.

Safety: provider names, domains and list names come from the network (AS names, host names, list
files). Every text node and every attribute value goes through :func:`analysis.charts.esc`
(``html.escape`` with quotes, after removing characters XML forbids and bidi controls). Output
is deterministic: the same inputs give the same bytes (no render timestamp).

Stable hooks for tests and scrapers: ``id="headline-<layer>"``, ``id="layer-<layer>"``,
``id="provenance"``, ``id="trend"``, ``id="whatif"``; numbers carry ``data-layer``,
``data-provider`` (table cells) and ``data-metric`` attributes, provenance values ``data-field``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from analysis.charts import bar_chart, esc, line_chart, pct, point_date, top_bars

LAYER_TITLES = {"hosting": "Hosting", "dns": "DNS", "cdn": "CDN", "email": "Email", "ca": "CA",
                "third_party": "Third parties"}
LAYER_BLURBS = {
    "hosting": "where the sites' web server addresses live",
    "dns": "who serves the sites' authoritative name servers",
    "cdn": "who fronts the sites (CNAME to a CDN)",
    "email": "who receives the sites' mail (MX)",
    "ca": "who issued the sites' TLS certificates",
    "third_party": "whom the home pages load resources from",
}
LAYER_COLORS = {"hosting": "#2563eb", "dns": "#0f766e", "cdn": "#c2410c", "email": "#7c3aed", "ca": "#be185d",
                "third_party": "#4d7c0f"}
CHART_TOP = 10
PROVENANCE = (
    ("snapshot_id", "Snapshot"), ("status", "Status"), ("list_name", "List"), ("list_id", "List ID"),
    ("list_date", "List date"), ("list_sha256", "List sha256"), ("list_source", "List source"),
    ("top_n", "Top N"), ("sites", "Sites in list"), ("list_rejected", "Entries rejected"),
    ("list_duplicates", "Duplicates"), ("resolved", "Sites resolved"), ("resolver", "Resolver"),
    ("rib_date", "RIB date"), ("rib_source", "RIB source"), ("registry_version", "Registry version"),
    ("registry_hash", "Registry hash"), ("tool_version", "Tool version"), ("weighting", "Weighting"),
    ("weight_by", "Weight per site"), ("level", "Level"), ("bucket", "Cut (top N)"), ("started_at", "Started"),
    ("finished_at", "Finished"),
)
_CODE_FIELDS = {"list_sha256", "registry_hash", "list_source", "rib_source", "resolver", "list_id"}


def fmt_pct(x: float | None) -> str:
    """A fraction as shown on the page: ``0.3176`` → ``31.8%``; missing → an em dash."""
    return "—" if x is None else pct(float(x))


def fmt_hhi(x: float | None) -> str:
    """HHI as shown on the page: rounded, with a thousands separator (``1264.7`` → ``1,265``)."""
    return "—" if x is None else f"{float(x):,.0f}"


def fmt_int(x: int | float | None) -> str:
    """A count as shown on the page (``1000`` → ``1,000``)."""
    return "—" if x is None else f"{int(x):,}"


def hhi_band(x: float) -> str:
    """Concentration band of an HHI, on the 2023 US merger guidelines' thresholds (1,000 / 1,800)."""
    return "highly concentrated" if x > 1800 else "moderately concentrated" if x >= 1000 else "unconcentrated"


METRIC_TITLES = {"hhi": "HHI", "cr1": "CR-1", "cr3": "CR-3", "cr5": "CR-5", "nakamoto": "Nakamoto coefficient",
                 "gini": "Gini", "entropy": "Entropy", "entropy_normalised": "Entropy (normalised)",
                 "share": "Share", "dependence": "Dependence", "critical": "Critical share",
                 "redundant": "Redundant share", "unattributed_share": "Unattributed share"}


def _metric_format(metric: str) -> Callable[[Any], str]:
    if metric == "hhi":
        return fmt_hhi
    if metric in ("nakamoto", "sites", "attributed", "unattributed", "providers_count"):
        return fmt_int
    if metric.startswith("cr") or metric in ("share", "dependence", "critical", "redundant", "unattributed_share",
                                             "down", "degraded"):
        return fmt_pct
    return lambda v: f"{float(v):.3f}"


CSS = """
:root{--fg:#111827;--muted:#6b7280;--bg:#f8fafc;--card:#fff;--line:#e5e7eb;--track:#e5e7eb;--accent:#2563eb}
@media (prefers-color-scheme:dark){:root{--fg:#e5e7eb;--muted:#9ca3af;--bg:#0b1120;--card:#111827;
--line:#1f2937;--track:#1f2937}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
sans-serif;overflow-wrap:anywhere}
main{max-width:1120px;margin:0 auto;padding:20px 16px 48px}
header h1{font-size:1.6rem;line-height:1.25;margin:0 0 4px}
.lede{color:var(--muted);margin:0 0 20px}
h2{font-size:1.25rem;margin:0 0 4px}
h2 small{font-weight:400;color:var(--muted);font-size:.9rem}
section{margin:0 0 28px}
.cards{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(min(100%,150px),1fr))}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px;
color:inherit;text-decoration:none;border-top:4px solid var(--c,var(--accent))}
.card h3{margin:0;font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.big{font-size:2rem;font-weight:700;line-height:1.15;font-variant-numeric:tabular-nums}
.big .unit{font-size:.85rem;font-weight:600;color:var(--muted);margin-left:4px}
.band{font-size:.8rem;color:var(--muted);margin-bottom:6px}
.kv{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:.9rem;margin:0}
.kv dt{color:var(--muted)} .kv dd{margin:0 0 0 4px;font-weight:600;font-variant-numeric:tabular-nums}
.kv div{display:flex}
.top{margin-top:6px;font-size:.9rem}
.top b{font-variant-numeric:tabular-nums}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;
border-top:4px solid var(--c,#94a3b8)}
.panel .kv{margin:8px 0 14px}
.split{display:grid;gap:24px;align-items:start}
@media (min-width:860px){.split{grid-template-columns:minmax(0,1fr) minmax(0,1.4fr)}}
figure{margin:0}
.split>*{min-width:0}
figcaption{font-size:.8rem;color:var(--muted);margin-top:6px}
svg.chart{width:100%;height:auto;max-width:440px;display:block}
svg.chart .label,svg.chart .value{fill:var(--fg)} svg.chart .track{fill:var(--track)}
svg.chart .grid{stroke:var(--line)}
svg.chart .tick,svg.chart .empty{fill:var(--muted)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
caption{text-align:left;color:var(--muted);font-size:.8rem;padding-bottom:6px}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{font-size:.72rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);font-weight:600}
th:first-child,td:first-child,th.name{text-align:left}
td.name{text-align:left;white-space:normal;overflow-wrap:break-word;min-width:9em;max-width:24em}
.pid{color:var(--muted);font-size:.75rem;white-space:nowrap}
.note{font-size:.85rem;color:var(--muted)}
.prov{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0;font-size:.9rem}
.prov dt{color:var(--muted)} .prov dd{margin:0;min-width:0}
code{font:.85em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
details{font-size:.9rem} details ul{padding-left:20px}
footer{color:var(--muted);font-size:.8rem;border-top:1px solid var(--line);padding-top:12px}
@media (max-width:480px){.prov{grid-template-columns:1fr}.prov dd{margin-bottom:6px}.big{font-size:1.6rem}
main{padding:14px 10px 40px}.panel{padding:12px}h2 small{display:block}.card{padding:10px 12px}
td .pid{display:none}td.name{min-width:7em}th,td{padding:6px 6px}}
"""

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")


def _kv(items: Sequence[tuple[str, str, str]], layer: str) -> str:
    """``<dl class="kv">`` of (label, metric, formatted value)."""
    return '<dl class="kv">' + "".join(
        f'<div><dt>{esc(label)}</dt><dd data-layer="{esc(layer)}" data-metric="{esc(metric)}">{esc(value)}</dd></div>'
        for label, metric, value in items) + "</dl>"


def measured_sites(report: Mapping[str, Any]) -> int | None:
    """Sites the report's layers are over: the cut's when the report is cut, else the list's."""
    for data in report.get("layers", {}).values():
        if data.get("sites") is not None:
            return int(data["sites"])
    sites = report.get("snapshot", {}).get("sites")
    return None if sites is None else int(sites)


def _headline(report: Mapping[str, Any]) -> str:
    snap = report.get("snapshot", {})
    cut = f" · top {fmt_int(snap['bucket'])}" if snap.get("bucket") else ""
    out = ['<section id="headline" aria-label="Headline numbers"><div class="cards">',
           '<div class="card" id="headline-sites"><h3>Sites measured</h3>'
           f'<div class="big" data-metric="sites">{esc(fmt_int(measured_sites(report)))}</div>'
           f'<div class="band">{esc(fmt_int(snap.get("resolved")))} resolved · list '
           f'{esc(snap.get("list_name") or "?")}{esc(cut)}</div></div>']
    for layer, data in report.get("layers", {}).items():
        providers = data.get("providers") or []
        top = providers[0] if providers else None
        has = bool(providers)
        out.append(
            f'<a class="card" href="#layer-{esc(layer)}" id="headline-{esc(layer)}" data-layer="{esc(layer)}" '
            f'style="--c:{esc(LAYER_COLORS.get(layer, "#2563eb"))}">'
            f"<h3>{esc(LAYER_TITLES.get(layer, layer))}</h3>"
            f'<div class="big"><span data-layer="{esc(layer)}" data-metric="hhi">'
            f'{esc(fmt_hhi(data.get("hhi")) if has else "—")}</span><span class="unit">HHI</span></div>'
            f'<div class="band">{esc(hhi_band(float(data.get("hhi", 0))) if has else "no attributed sites")}</div>'
            + _kv([("CR-3", "cr3", fmt_pct(data.get("cr", {}).get("3")) if has else "—"),
                   ("Nakamoto", "nakamoto", fmt_int(data.get("nakamoto")) if has else "—")], layer)
            + (f'<div class="top">Top: <span data-layer="{esc(layer)}" data-metric="top-provider">'
               f'{esc(top.get("name") or top.get("provider"))}</span> '
               f'<b data-layer="{esc(layer)}" data-metric="top-share">{esc(fmt_pct(top.get("share")))}</b></div>'
               if top else "")
            + "</a>")
    out.append("</div></section>")
    return "".join(out)


def _provider_table(layer: str, providers: Sequence[Mapping[str, Any]], top: int) -> str:
    cols = ("sites", "share", "dependence", "critical")
    out = ['<div><div class="scroll"><table>'
           f"<caption>{esc(LAYER_TITLES.get(layer, layer))} providers by market share</caption>"
           '<thead><tr><th scope="col">#</th><th scope="col" class="name">Provider</th>'
           + "".join(f'<th scope="col">{esc(c)}</th>' for c in cols) + "</tr></thead><tbody>"]
    for rank, p in enumerate(providers[:top], start=1):
        pid, name = str(p.get("provider", "")), str(p.get("name") or p.get("provider", ""))
        attrs = f'data-layer="{esc(layer)}" data-provider="{esc(pid)}"'
        out.append(
            f'<tr {attrs}><td>{rank}</td><td class="name"><span {attrs} data-metric="name">{esc(name)}</span>'
            + (f' <span class="pid">{esc(pid)}</span>' if pid.lower() != name.lower() else "") + "</td>"
            + f'<td {attrs} data-metric="sites">{esc(fmt_int(p.get("sites")))}</td>'
            + "".join(f'<td {attrs} data-metric="{m}">{esc(fmt_pct(p.get(m)))}</td>' for m in cols[1:])
            + "</tr>")
    out.append("</tbody></table></div>")
    if len(providers) > top:
        out.append(f'<p class="note">Showing the top {top:,} of {len(providers):,} providers; every provider '
                   "is in the JSON and CSV reports and counts in the metrics above.</p>")
    out.append("</div>")
    return "".join(out)


def _layer(layer: str, data: Mapping[str, Any], top: int) -> str:
    providers = list(data.get("providers") or [])
    title = LAYER_TITLES.get(layer, layer)
    cr = data.get("cr", {})
    has = bool(providers)
    stats = [("Attributed", "attributed", f"{fmt_int(data.get('attributed'))} of {fmt_int(data.get('sites'))}"),
             ("Unattributed", "unattributed", fmt_int(data.get("unattributed"))),
             ("Providers", "providers_count", fmt_int(data.get("providers_count", len(providers))))]
    if has:
        stats += [("HHI", "hhi", fmt_hhi(data.get("hhi"))),
                  *((f"CR-{k}", f"cr{k}", fmt_pct(cr.get(k))) for k in ("1", "3", "5") if k in cr),
                  ("Nakamoto", "nakamoto", fmt_int(data.get("nakamoto")))]
        stats += [(label, key, f"{float(data[key]):.3f}") for label, key in
                  (("Gini", "gini"), ("Entropy (normalised)", "entropy_normalised")) if data.get(key) is not None]
    chart = bar_chart(top_bars(providers, top=CHART_TOP), label=f"{title}: market share of the top providers",
                      color=LAYER_COLORS.get(layer, "#2563eb"), empty_message="No attributed sites")
    return (f'<section class="panel layer" id="layer-{esc(layer)}" data-layer="{esc(layer)}" '
            f'style="--c:{esc(LAYER_COLORS.get(layer, "#2563eb"))}">'
            f"<h2>{esc(title)} <small>{esc(LAYER_BLURBS.get(layer, ''))}</small></h2>"
            + _kv(stats, layer)
            + '<div class="split"><figure>' + chart
            + "<figcaption>Market share of attributed sites; each track is 100%. A grey bar folds the "
              "remaining providers together for display only.</figcaption></figure>"
            + (_provider_table(layer, providers, top) if has else '<p class="note">No provider attributed.</p>')
            + "</div></section>")


def _trend(trend: Mapping[str, Any]) -> str:
    """A metric of one layer over snapshots; points naming a ``provider`` give one line each."""
    metric, layer = str(trend.get("metric", "")), str(trend.get("layer", ""))
    fmt = _metric_format(metric)
    points = list(trend.get("points") or [])
    providers = list(dict.fromkeys(str(p["provider"]) for p in points if p.get("provider")))
    subject = LAYER_TITLES.get(layer, layer) + (f", {', '.join(providers)}" if len(providers) == 1 else "")
    title = f"{METRIC_TITLES.get(metric, metric)} of {subject}"
    columns = providers if len(providers) > 1 else [METRIC_TITLES.get(metric, metric)]
    by_snap: dict[object, dict[str, Any]] = {}
    for i, p in enumerate(points):
        row = by_snap.setdefault(p.get("snapshot_id", f"#{i}"), {"point": p, "values": {}})
        row["values"][str(p["provider"]) if len(providers) > 1 else columns[0]] = p.get("value")
    rows = []
    for sid, row in by_snap.items():
        cells = "".join(
            f'<td data-layer="{esc(layer)}" data-metric="{esc(metric)}"'
            + (f' data-provider="{esc(c)}"' if len(providers) > 1 else "")
            + f'>{esc("—" if row["values"].get(c) is None else fmt(row["values"][c]))}</td>' for c in columns)
        rows.append(f'<tr data-snapshot="{esc(sid)}"><td>{esc(point_date(row["point"]) or "—")}</td>'
                    f"<td>{esc(sid)}</td>{cells}</tr>")
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in columns)
    chart = line_chart(points, label=f"Trend: {title}", color=LAYER_COLORS.get(layer, "#2563eb"), value_format=fmt)
    n = len(by_snap)
    return (f'<section class="panel" id="trend" data-layer="{esc(layer)}" data-metric="{esc(metric)}" '
            f'style="--c:{esc(LAYER_COLORS.get(layer, "#94a3b8"))}">'
            f"<h2>Trend <small>{esc(title)} over {n} snapshot{'s' if n != 1 else ''}</small></h2>"
            f'<div class="split"><figure>{chart}</figure><div class="scroll"><table><thead><tr>'
            f'<th scope="col">Date</th><th scope="col">Snapshot</th>{head}</tr></thead><tbody>{"".join(rows)}'
            "</tbody></table></div></div></section>")


def _whatif(rows: Sequence[Mapping[str, Any]]) -> str:
    """What-if outage scenarios: each row ``scenario`` (label) and/or ``failed`` (provider ids),
    ``down`` and ``degraded`` (fractions of sites), optionally ``down_weight`` and
    ``degraded_weight`` (fractions of popularity weight)."""
    weighted = any("down_weight" in r or "degraded_weight" in r for r in rows)
    cols = [("down", "Down"), ("degraded", "Degraded")]
    if weighted:
        cols += [("down_weight", "Down (weight)"), ("degraded_weight", "Degraded (weight)")]
    out = ['<section class="panel" id="whatif" style="--c:#b91c1c"><h2>What if <small>sites down or degraded '
           'when providers fail</small></h2><div class="scroll"><table><thead><tr><th scope="col">Scenario</th>'
           '<th scope="col" class="name">Failed</th>' + "".join(f'<th scope="col">{esc(t)}</th>' for _, t in cols)
           + "</tr></thead><tbody>"]
    for i, r in enumerate(rows):
        failed = r.get("failed") or []
        failed_text = ", ".join(map(str, failed)) if isinstance(failed, list | tuple) else str(failed)
        label = str(r.get("scenario") or r.get("name") or failed_text or f"scenario {i + 1}")
        out.append(f'<tr data-scenario="{i}"><td>{esc(label)}</td><td class="name">{esc(failed_text or "—")}</td>'
                   + "".join(f'<td data-scenario="{i}" data-metric="{esc(k)}">{esc(fmt_pct(r.get(k)))}</td>'
                             for k, _ in cols) + "</tr>")
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _buckets(buckets: Sequence[Mapping[str, Any]], layers: Sequence[str]) -> str:
    """Concentration per popularity cut (top 1k, 10k, ... or the list's own buckets)."""
    head = "".join(f'<th scope="col">{esc(LAYER_TITLES.get(layer, layer))}</th>' for layer in layers)
    rows = []
    for b in buckets:
        cut = b.get("bucket")
        cells = []
        for layer in layers:
            d = (b.get("layers") or {}).get(layer)
            if not d or not d.get("providers_count", d.get("attributed")):
                cells.append("<td>—</td>")
                continue
            attrs = f'data-bucket="{esc(cut)}" data-layer="{esc(layer)}"'
            top = d.get("top_name") or d.get("top_provider")
            cells.append(f'<td><span {attrs} data-metric="hhi">{esc(fmt_hhi(d.get("hhi")))}</span>'
                         + (f'<span class="pid">{esc(top)} {esc(fmt_pct(d.get("top_share")))}</span>' if top else "")
                         + "</td>")
        rows.append(f'<tr data-bucket="{esc(cut)}"><td>Top {esc(fmt_int(cut))}</td>'
                    f'<td>{esc(fmt_int(b.get("sites")))}</td>{"".join(cells)}</tr>')
    return ('<section class="panel" id="buckets"><h2>By popularity <small>HHI and top provider per cut of the '
            'list</small></h2><div class="scroll"><table><thead><tr><th scope="col">Cut</th>'
            f'<th scope="col">Sites</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>')


def _provenance(snap: Mapping[str, Any]) -> str:
    items = []
    for key, label in PROVENANCE:
        value = snap.get(key)
        text = "—" if value is None or value == "" else str(value)
        body = f"<code>{esc(text)}</code>" if key in _CODE_FIELDS and text != "—" else esc(text)
        items.append(f'<dt>{esc(label)}</dt><dd data-field="{esc(key)}">{body}</dd>')
    return ('<section class="panel" id="provenance"><h2>Provenance <small>what this snapshot observed, and with '
            'what</small></h2><dl class="prov">' + "".join(items) + "</dl></section>")


def _about() -> str:
    return ('<section id="about"><details><summary>How to read these numbers</summary><ul>'
            "<li><b>Share</b>: each attributed site split equally over its providers in the layer, over the "
            "layer's attributed sites.</li>"
            "<li><b>Dependence</b>: sites that use the provider at all; <b>critical</b>: sites whose only "
            "provider in the layer it is; both over all measured sites.</li>"
            "<li><b>HHI</b> = Σ (100 · share)², from near 0 (many small providers) to 10,000 (one provider); "
            "bands: under 1,000 unconcentrated, 1,000–1,800 moderately, above 1,800 highly concentrated.</li>"
            "<li><b>CR-k</b>: the k largest shares summed. <b>Nakamoto coefficient</b>: the fewest providers "
            "whose shares sum past 50%.</li>"
            "<li>Unknown providers are named by their AS organisation and never lumped together before the "
            "metrics are computed; the grey chart bars are a display aggregation only.</li>"
            "</ul></details></section>")


def render_html(report: Mapping[str, Any], *, trend: Mapping[str, Any] | None = None,
                whatif: Sequence[Mapping[str, Any]] | None = None, title: str | None = None,
                top: int = 20) -> str:
    """The report as one self-contained HTML document.

    :param report: :func:`analysis.summary.snapshot_report`'s dict (``snapshot`` and ``layers``).
    :param trend: optional series ``{"metric": "hhi", "layer": "dns", "points": [{"date",
        "snapshot_id", "value"}, ...]}`` drawn as a line chart with a table of its points.
    :param whatif: optional outage scenarios (see :func:`_whatif` for the keys read).
    :param title: page title; default names the list and the snapshot.
    :param top: provider rows per layer table (the metrics always cover every provider).
    :returns: the HTML text (UTF-8 when written; no external resources).
    """
    snap = report.get("snapshot", {})
    buckets = list(report.get("buckets") or [])
    page_title = title or (f"Web concentration: {snap.get('list_name') or 'list'}, "
                           f"snapshot {snap.get('snapshot_id', '?')}")
    lede = (f"{fmt_int(measured_sites(report))} sites from {snap.get('list_name') or '?'}"
            f"{' (list date ' + str(snap['list_date']) + ')' if snap.get('list_date') else ''} · "
            f"weighting {snap.get('weighting') or '?'} · level {snap.get('level') or '?'} · "
            f"crawled {str(snap.get('started_at') or '?')[:10]}")
    body = [
        "<header>", f'<h1 id="title">{esc(page_title)}</h1>', f'<p class="lede">{esc(lede)}</p>', "</header>",
        _headline(report),
        *((_trend(trend),) if trend else ()),
        *((_whatif(whatif),) if whatif else ()),
        *((_buckets(buckets, list(report.get("layers", {}))),) if len(buckets) > 1 else ()),
        *(_layer(layer, data, top) for layer, data in report.get("layers", {}).items()),
        _provenance(snap),
        _about(),
        f'<footer>chokepoints {esc(snap.get("tool_version") or "")} · snapshot {esc(snap.get("snapshot_id", "?"))} · '
        "a self-contained page: no scripts, nothing loaded from the network.</footer>",
    ]
    return ("<!doctype html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
            '<meta name="referrer" content="no-referrer"><meta name="color-scheme" content="light dark">'
            f"<title>{esc(page_title)}</title><style>{CSS}</style></head>"
            "<body><main>" + "".join(body) + "</main></body></html>\n")
