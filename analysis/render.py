"""Render a snapshot report as a rich table, JSON or Markdown.

Everything that came from the network (domains, provider names taken from AS names or host
names) is escaped for the output format: rich markup is disabled on such cells, Markdown
table cells escape ``|``, ``<``, ``>``, ``&`` and backticks.

Fields added later (``redundant``, ``critical`` per layer, the per-bucket ``buckets`` table)
are shown when present, so older report dicts still render.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

LAYER_TITLES = {"hosting": "Hosting", "dns": "DNS", "cdn": "CDN", "email": "Email"}


def pct(x: float) -> str:
    return f"{100.0 * x:.1f}%"


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False, default=str)


def _snapshot_line(s: dict[str, Any]) -> str:
    list_ref = s.get("list_id") or (s.get("list_sha256") or "")[:12]
    return (f"snapshot {s['snapshot_id']} · {s['list_name']} {list_ref} · list date {s.get('list_date') or '?'} · "
            f"{s.get('sites')} sites ({s.get('resolved')} resolved) · resolver {s.get('resolver')} · "
            f"RIB {s.get('rib_date') or '?'} · registry {s.get('registry_version')} · "
            f"weighting {s.get('weighting')}{_weight_by(s)} · level {s.get('level')} · {_cut(s)}{s.get('status')}")


def _weight_by(s: dict[str, Any]) -> str:
    return f" ({s['weight_by']})" if s.get("weight_by") else ""


def _cut(s: dict[str, Any]) -> str:
    return f"top {s['bucket']} · " if s.get("bucket") else ""


def _sole_line(data: dict[str, Any]) -> str:
    if "critical" not in data:
        return ""
    return (f"{pct(data['critical'])} of sites depend on one provider alone, {pct(data['redundant'])} on several, "
            f"{pct(data.get('unattributed_share', 0.0))} on none found")


def print_table(report: dict[str, Any], console: Console, *, top: int = 10) -> None:
    console.print(Text(_snapshot_line(report["snapshot"]), style="bold"))
    for layer, data in report["layers"].items():
        title = (f"{LAYER_TITLES.get(layer, layer)}: {data['attributed']} of {data['sites']} sites attributed · "
                 f"HHI {data['hhi']:.0f} · CR-1/3/5 {pct(data['cr']['1'])} / {pct(data['cr']['3'])} / "
                 f"{pct(data['cr']['5'])} · Nakamoto {data['nakamoto']} · {data['providers_count']} providers")
        table = Table(title=Text(title), title_justify="left", show_edge=False)
        table.add_column("provider")
        table.add_column("sites", justify="right")
        table.add_column("share", justify="right")
        table.add_column("dependence", justify="right")
        table.add_column("critical", justify="right")
        table.add_column("redundant", justify="right")
        for p in data["providers"][:top]:
            table.add_row(Text(str(p["name"])), str(p["sites"]), pct(p["share"]), pct(p["dependence"]),
                          pct(p["critical"]), pct(p.get("redundant", p["dependence"] - p["critical"])))
        console.print()
        console.print(table)
        if _sole_line(data):
            console.print(Text(_sole_line(data)))
    if report.get("buckets"):
        console.print()
        console.print(_bucket_table(report["buckets"]))


def _bucket_rows(buckets: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for b in buckets:
        for layer, d in b["layers"].items():
            top = f"{d['top_name']} {pct(d['top_share'])}" if d["top_provider"] is not None else "-"
            rows.append([str(b["bucket"]), LAYER_TITLES.get(layer, layer), str(d["sites"]), str(d["attributed"]),
                         f"{d['hhi']:.0f}", pct(d["cr"]["1"]), pct(d["cr"]["3"]), str(d["nakamoto"]),
                         pct(d["critical"]), top])
    return rows


BUCKET_COLUMNS = ["top", "layer", "sites", "attributed", "HHI", "CR-1", "CR-3", "Nakamoto", "sole",
                  "top provider"]


def _bucket_table(buckets: list[dict[str, Any]]) -> Table:
    table = Table(title=Text("Per popularity bucket (top N by rank or bucket; sole: sites on one provider alone)"),
                  title_justify="left", show_edge=False)
    for i, c in enumerate(BUCKET_COLUMNS):
        table.add_column(c, justify="left" if i in (0, 1, 9) else "right")
    for row in _bucket_rows(buckets):
        table.add_row(*(Text(v) for v in row))
    return table


def md_escape(value: Any) -> str:
    s = str(value)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "\\`"), ("\n", " ")):
        s = s.replace(a, b)
    return s


def to_markdown(report: dict[str, Any], *, top: int = 10) -> str:
    s = report["snapshot"]
    lines = [f"# Concentration report: snapshot {s['snapshot_id']}", "", md_escape(_snapshot_line(s)), ""]
    for layer, data in report["layers"].items():
        lines += [
            f"## {LAYER_TITLES.get(layer, layer)}", "",
            f"{data['attributed']} of {data['sites']} sites attributed ({data['unattributed']} unattributed); "
            f"HHI {data['hhi']:.0f}; CR-1 {pct(data['cr']['1'])}, CR-3 {pct(data['cr']['3'])}, "
            f"CR-5 {pct(data['cr']['5'])}; Nakamoto coefficient {data['nakamoto']}; "
            f"{data['providers_count']} providers.", "",
        ]
        if _sole_line(data):
            lines += [_sole_line(data) + ".", ""]
        lines += [
            "| provider | sites | share | dependence | critical | redundant |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for p in data["providers"][:top]:
            lines.append(f"| {md_escape(p['name'])} | {p['sites']} | {pct(p['share'])} | "
                         f"{pct(p['dependence'])} | {pct(p['critical'])} | "
                         f"{pct(p.get('redundant', p['dependence'] - p['critical']))} |")
        lines.append("")
    if report.get("buckets"):
        lines += ["## Per popularity bucket", "",
                  "Top N sites by rank (or the list's own buckets); sole: sites on one provider alone.", "",
                  "| " + " | ".join(BUCKET_COLUMNS) + " |",
                  "|---|---|" + "---:|" * 7 + "---|"]
        lines += ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in _bucket_rows(report["buckets"])]
        lines.append("")
    return "\n".join(lines)


CSV_COLUMNS = ("snapshot_id", "list_name", "list_date", "weighting", "level", "layer", "provider", "name",
               "sites", "share", "dependence", "critical", "redundant")


def to_csv(report: dict[str, Any]) -> str:
    """Every provider of every layer, one row each (shares as fractions), with the snapshot's
    identity and the weighting on each row so that rows stay meaningful when concatenated.

    Cells are quoted by the csv module; a cell starting with ``=``, ``+``, ``-`` or ``@`` (which
    a spreadsheet would run as a formula) is prefixed with a quote.
    """
    import csv
    import io

    def cell(v: Any) -> Any:
        if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
            return "'" + v
        return v

    s = report["snapshot"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for layer, data in report["layers"].items():
        for p in data["providers"]:
            w.writerow([cell(v) for v in (
                s.get("snapshot_id"), s.get("list_name"), s.get("list_date"), s.get("weighting"), s.get("level"),
                layer, p["provider"], p.get("name"), p["sites"], p["share"], p["dependence"], p["critical"],
                p.get("redundant"))])
    return buf.getvalue()
