"""The per-snapshot summary behind ``chokepoints report``: per layer, who serves how much.

Aggregation runs in DuckDB (``sql/layer_*.sql``); the metrics are :mod:`analysis.metrics`
applied to the aggregates. Shares are fractions 0..1; HHI is 0..10,000. Denominators:

* ``share`` (market share) — over the layer's *attributed* sites, each split equally over
  its providers;
* ``dependence`` and ``critical`` — over *all measured sites* of the snapshot, so they read
  as "this share of the list would be touched / taken down".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from analysis import metrics
from chokepoints import db

LAYERS = ("hosting", "dns", "cdn", "email")
SNAPSHOT_FIELDS = (
    "snapshot_id", "list_name", "list_id", "list_source", "list_sha256", "list_date", "top_n",
    "sites", "list_rejected", "list_duplicates", "resolver", "rib_source", "rib_date",
    "registry_version", "registry_hash", "tool_version", "started_at", "finished_at", "status",
)


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v


def layer_summary(rows: list[dict[str, Any]], *, sites: int, attributed: int) -> dict[str, Any]:
    """Metrics of one layer from its per-provider aggregate rows."""
    weights = [r["share_weight"] for r in rows]
    shares = metrics.normalise(weights)
    providers = []
    for r, share in zip(rows, shares, strict=True):
        providers.append({
            "provider": r["provider"],
            "name": r.get("name") or r["provider"],
            "sites": int(r["sites"]),
            "share": share,
            "dependence": r["sites"] / sites if sites else 0.0,
            "critical": r["critical_sites"] / sites if sites else 0.0,
        })
    providers.sort(key=lambda p: (-p["share"], p["provider"]))
    return {
        "sites": sites,
        "attributed": attributed,
        "unattributed": sites - attributed,
        "providers_count": len(providers),
        "hhi": metrics.hhi(shares),
        "cr": {str(k): metrics.cr(shares, k) for k in (1, 3, 5)},
        "nakamoto": metrics.nakamoto(shares),
        "gini": metrics.gini(shares),
        "entropy": metrics.entropy(shares),
        "entropy_normalised": metrics.entropy(shares, normalised=True),
        "providers": providers,
    }


LEVELS = ("provider", "org")


def snapshot_report(con: duckdb.DuckDBPyConnection, snapshot_id: int, level: str = "provider") -> dict[str, Any]:
    """The whole report of one snapshot as plain data (what ``--format json`` prints).

    :param level: ``provider`` (services apart: AWS, CloudFront, Route 53) or ``org``
        (grouped by the registry's organisation: all of them are Amazon).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    params = {"sid": snapshot_id}
    snap = db.fetch_dicts(con, "select * from snapshots where snapshot_id = ?", [snapshot_id])[0]
    counts = db.fetch_dicts(con, db.sql_text("analysis", "snapshot_sites.sql"), params)[0]
    sites = int(counts["sites"] or 0)
    attributed = {r["layer"]: int(r["attributed"]) for r in
                  db.fetch_dicts(con, db.sql_text("analysis", "layer_sites.sql"), params)}
    names = {r["provider"]: r["name"] for r in db.fetch_dicts(
        con, "select provider, name from providers where snapshot_id = ?", [snapshot_id])}
    by_layer: dict[str, list[dict[str, Any]]] = {layer: [] for layer in LAYERS}
    for r in db.fetch_dicts(con, db.sql_text("analysis", "layer_providers.sql"), {**params, "level": level}):
        r["name"] = names.get(r["provider"])
        by_layer.setdefault(r["layer"], []).append(r)
    snapshot = {k: _jsonable(snap.get(k)) for k in SNAPSHOT_FIELDS}
    snapshot["resolved"] = int(counts["resolved"] or 0)
    snapshot["weighting"] = "uniform"
    snapshot["level"] = level
    return {
        "snapshot": snapshot,
        "layers": {
            layer: layer_summary(rows, sites=sites, attributed=attributed.get(layer, 0))
            for layer, rows in by_layer.items()
        },
    }
