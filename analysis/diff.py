"""Two snapshots side by side: which sites moved between providers, how each metric changed.

Per layer:

* ``sites``: how many sites each snapshot measured, how many both did, and how the common ones
  fared: ``unchanged``, ``moved`` (other providers), ``gained`` (unattributed in A, attributed
  in B), ``lost`` (the reverse), ``unattributed`` (in neither); ``appeared`` and
  ``disappeared`` count the sites measured in one snapshot only;
* ``migrations``: the migration matrix, one row per (kind, providers in A, providers in B)
  with its site count, for every kind but ``unchanged`` and ``unattributed``. A site's
  providers are the sorted list of its distinct providers in the layer, so a site that added
  a second CDN moves from ``["a"]`` to ``["a", "b"]``;
* ``metrics``: every layer metric in A, in B, and the change (B - A);
* ``providers``: each provider's sites and shares in A and B, the change, and how many common
  sites gained or lost it.

All counts come from SQL aggregates (``sql/site_moves.sql``, ``layer_metrics.sql``,
``provider_shares.sql``); Python only walks the aggregated rows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb

from analysis import summary
from chokepoints import db

METRICS = ("sites", "attributed", "unattributed_share", "critical", "redundant", "providers", "hhi", "cr1",
           "cr3", "cr5", "nakamoto", "gini", "entropy", "entropy_normalised")
KINDS = ("unchanged", "moved", "gained", "lost", "unattributed", "appeared", "disappeared")
SNAPSHOT_FIELDS = ("snapshot_id", "list_name", "list_id", "list_date", "top_n", "sites", "started_at", "status")


def diff(
    con: duckdb.DuckDBPyConnection, a: int, b: int, *, layers: list[str] | None = None,
    weight: str = "uniform", level: str = "provider",
) -> dict[str, Any]:
    """Compare snapshot ``a`` with snapshot ``b`` (see the module doc), as plain data.

    :param layers: the layers to compare (default: every layer either snapshot has).
    :param weight: the weighting of the metrics and shares (migration counts are sites).
    """
    summary.check_choice("weight", weight, summary.WEIGHTS)
    summary.check_choice("level", level, summary.LEVELS)
    if layers is None:
        layers = list(dict.fromkeys([*summary.snapshot_layers(con, a), *summary.snapshot_layers(con, b)]))
    opts: dict[str, Any] = {"layers": layers, "weight": weight, "level": level}
    names = {**summary.provider_names(con, a), **summary.provider_names(con, b)}

    sids = list(dict.fromkeys([a, b]))  # a snapshot against itself: asked once, not counted twice
    metrics: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for r in summary.layer_rows(con, sids, **opts):
        metrics[r["layer"]][r["snapshot_id"]] = r
    shares: dict[str, dict[str, dict[int, dict[str, Any]]]] = defaultdict(lambda: defaultdict(dict))
    for r in summary.provider_rows(con, sids, **opts):
        shares[r["layer"]][r["provider"]][r["snapshot_id"]] = r
    moves: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in db.fetch_dicts(con, db.sql_text("analysis", "site_moves.sql"),
                            {"a": a, "b": b, "layers": layers, "level": level}):
        moves[r["layer"]].append(r)

    out_layers = {}
    for layer in layers:
        counts = dict.fromkeys(KINDS, 0)
        gained: dict[str, int] = defaultdict(int)
        lost: dict[str, int] = defaultdict(int)
        migrations = []
        for m in moves[layer]:
            counts[m["kind"]] += int(m["sites"])
            before, after = set(m["providers_a"] or ()), set(m["providers_b"] or ())
            if m["kind"] in ("moved", "gained", "lost"):
                for p in after - before:
                    gained[p] += int(m["sites"])
                for p in before - after:
                    lost[p] += int(m["sites"])
            if m["kind"] not in ("unchanged", "unattributed"):
                migrations.append({"kind": m["kind"], "from": m["providers_a"], "to": m["providers_b"],
                                   "sites": int(m["sites"])})
        ma, mb = metrics[layer].get(a, {}), metrics[layer].get(b, {})
        out_layers[layer] = {
            "sites": {
                "a": int(ma.get("sites", 0)), "b": int(mb.get("sites", 0)),
                "common": sum(counts[k] for k in KINDS[:5]), **counts,
            },
            "metrics": {k: _change(ma.get(k, 0), mb.get(k, 0)) for k in METRICS},
            "providers": _providers(shares[layer], a, b, names, gained, lost),
            "migrations": migrations,
        }
    return {"a": _snapshot(con, a, weight), "b": _snapshot(con, b, weight), "weighting": weight, "level": level,
            "layers": out_layers}


def _change(a: Any, b: Any) -> dict[str, Any]:
    return {"a": a, "b": b, "delta": b - a}


def _snapshot(con: duckdb.DuckDBPyConnection, sid: int, weight: str) -> dict[str, Any]:
    row = db.fetch_dicts(con, "select * from snapshots where snapshot_id = ?", [sid])[0]
    snap = {k: summary.jsonable(row.get(k)) for k in SNAPSHOT_FIELDS}
    snap["weight_by"] = summary.list_positions(con, sid).weight_by(weight)
    return snap


def _providers(
    rows: dict[str, dict[int, dict[str, Any]]], a: int, b: int, names: dict[str, str | None],
    gained: dict[str, int], lost: dict[str, int],
) -> list[dict[str, Any]]:
    out = []
    for provider, by_sid in rows.items():
        ra, rb = by_sid.get(a, {}), by_sid.get(b, {})
        entry: dict[str, Any] = {"provider": provider, "name": names.get(provider) or provider,
                                 "sites_a": int(ra.get("sites", 0)), "sites_b": int(rb.get("sites", 0))}
        for k in ("share", "dependence", "critical", "redundant"):
            va, vb = float(ra.get(k, 0.0)), float(rb.get(k, 0.0))
            entry.update({f"{k}_a": va, f"{k}_b": vb, f"{k}_delta": vb - va})
        entry["gained"] = gained.get(provider, 0)
        entry["lost"] = lost.get(provider, 0)
        out.append(entry)
    # Rounded for ordering only: float noise in SQL sums must never reorder equal shares.
    out.sort(key=lambda e: (-round(max(e["share_a"], e["share_b"]), 12), e["provider"]))
    return out


def providers_label(providers: list[str] | None) -> str:
    """A site's provider list as one cell: ``a + b``, or ``(none)``."""
    return " + ".join(providers) if providers else "(none)"


def _metric_cell(metric: str, value: Any, *, delta: bool = False) -> str:
    from analysis.trend import format_value

    if metric in ("sites", "attributed", "providers", "nakamoto"):
        return f"{int(value):+d}" if delta else str(int(value))
    if metric in ("unattributed_share", "critical", "redundant", "cr1", "cr3", "cr5"):
        return f"{100.0 * value:+.1f} pp" if delta else format_value("cr1", value)
    if metric == "hhi":
        return f"{value:+.0f}" if delta else f"{value:.0f}"
    return f"{value:+.3f}" if delta else f"{value:.3f}"


def heading(data: dict[str, Any]) -> str:
    a, b = data["a"], data["b"]
    return (f"snapshot {a['snapshot_id']} ({a['list_name']} {a['list_date'] or '?'}) → snapshot "
            f"{b['snapshot_id']} ({b['list_name']} {b['list_date'] or '?'}) · weighting {data['weighting']} "
            f"({a['weight_by']} / {b['weight_by']}) · level {data['level']}")


def sites_line(data: dict[str, Any], layer: str) -> str:
    """What happened to one layer's sites, in one sentence."""
    s = data["layers"][layer]["sites"]
    return (f"{layer}: {s['a']} → {s['b']} sites; of {s['common']} in both: {s['unchanged']} unchanged, "
                  f"{s['moved']} moved, {s['gained']} gained a provider, {s['lost']} lost theirs, "
                  f"{s['unattributed']} unattributed in both; {s['appeared']} appeared, "
                  f"{s['disappeared']} disappeared")


def tables(data: dict[str, Any], layer: str, top: int) -> list[tuple[str, list[str], list[list[str]]]]:
    """One layer's tables as (title, columns, rows): metrics, migrations, provider changes."""
    d = data["layers"][layer]
    metric_rows = [[k, _metric_cell(k, v["a"]), _metric_cell(k, v["b"]), _metric_cell(k, v["delta"], delta=True)]
                   for k, v in d["metrics"].items()]
    moves = [m for m in d["migrations"] if m["kind"] in ("moved", "gained", "lost")]
    migrations = [[m["kind"], providers_label(m["from"]), providers_label(m["to"]), str(m["sites"])]
                  for m in moves[:top]]
    movers = sorted(d["providers"], key=lambda p: (-round(abs(p["share_delta"]), 12), p["provider"]))[:top]
    provider_rows = [[str(p["name"]), str(p["sites_a"]), str(p["sites_b"]), _metric_cell("cr1", p["share_a"]),
                      _metric_cell("cr1", p["share_b"]), _metric_cell("cr1", p["share_delta"], delta=True),
                      f"+{p['gained']}", f"-{p['lost']}"] for p in movers]
    return [
        (f"{layer}: metrics", ["metric", "A", "B", "delta"], metric_rows),
        (f"{layer}: largest migrations of sites measured in both", ["kind", "from (A)", "to (B)", "sites"], migrations),
        (f"{layer}: largest share changes", ["provider", "sites A", "sites B", "share A", "share B", "delta",
                                             "gained", "lost"], provider_rows),
    ]


def print_table(data: dict[str, Any], console: Any, *, top: int = 10) -> None:
    """Print the diff as rich tables (network-sourced names are never read as markup)."""
    from rich.table import Table
    from rich.text import Text

    console.print(Text(heading(data), style="bold"))
    for layer in data["layers"]:
        console.print()
        console.print(Text(sites_line(data, layer)))
        for title, columns, rows in tables(data, layer, top):
            table = Table(title=Text(title), title_justify="left", show_edge=False)
            for i, c in enumerate(columns):
                table.add_column(Text(c), justify="left" if i == 0 or c.startswith(("from", "to")) else "right")
            for row in rows:
                table.add_row(*(Text(v) for v in row))
            console.print()
            console.print(table)


def to_markdown(data: dict[str, Any], *, top: int = 10) -> str:
    from analysis.render import md_escape

    lines = [f"# Diff: {md_escape(heading(data))}", ""]
    for layer in data["layers"]:
        lines += [f"## {md_escape(layer)}", "", md_escape(sites_line(data, layer)) + ".", ""]
        for title, columns, rows in tables(data, layer, top):
            lines += [md_escape(title), "", "| " + " | ".join(columns) + " |",
                      "|" + "|".join("---" if i == 0 or c.startswith(("from", "to", "kind")) else "---:"
                                     for i, c in enumerate(columns)) + "|"]
            lines += ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines).rstrip("\n")
