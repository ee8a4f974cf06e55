"""Metrics over time: one metric, per completed snapshot of one list family.

A list family is ``snapshots.list_name`` (tranco, radar, crux, file, ...); its snapshots are
the completed ones (failed, interrupted and running ones left out), ordered by list date
(undated last), then start time (``sql/family_snapshots.sql``). Every number comes from SQL
over all the snapshots at once (``sql/layer_metrics.sql`` or ``sql/provider_shares.sql``), never
from a Python loop over sites: one query on the sums stored at attribution (a few thousand rows
per snapshot), one more computing the same sums from the rows of snapshots without them
(:func:`analysis.summary.metric_rows`).

Layer metrics (one value per snapshot) and provider metrics (one value per snapshot and
provider: the given one, or the ``top`` providers of the newest snapshot; a provider absent
from a snapshot counts 0 there).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import duckdb

from analysis import summary
from chokepoints import db
from chokepoints.errors import UserError

LAYER_METRICS = ("hhi", "cr1", "cr3", "cr5", "nakamoto", "gini", "entropy", "entropy_normalised",
                 "unattributed_share")
PROVIDER_METRICS = ("share", "dependence", "critical", "redundant")
METRICS = (*LAYER_METRICS, *PROVIDER_METRICS)
#: Metrics that are fractions 0..1 (printed as percentages in tables).
FRACTIONS = ("cr1", "cr3", "cr5", "unattributed_share", *PROVIDER_METRICS)


def family_snapshots(con: duckdb.DuckDBPyConnection, list_name: str) -> list[dict[str, Any]]:
    """The completed snapshots of ``list_name``, oldest first."""
    return db.fetch_dicts(con, db.sql_text("analysis", "family_snapshots.sql"), {"list_name": list_name})


def latest_family(con: duckdb.DuckDBPyConnection) -> str:
    """The list family of the newest completed snapshot."""
    sid = db.resolve_snapshot(con, "latest")
    return str(con.execute("select list_name from snapshots where snapshot_id = ?", [sid]).fetchall()[0][0])


def trend(
    con: duckdb.DuckDBPyConnection, *, layer: str, metric: str, provider: str | None = None,
    list_name: str | None = None, weight: str = "uniform", level: str = "provider",
    bucket: int | None = None, top: int = 5,
) -> dict[str, Any]:
    """One metric across the completed snapshots of a list family, as plain data.

    :param provider: for a provider metric, that provider only (else the ``top`` providers of
        the newest snapshot by the metric); refused for a layer metric.
    :param list_name: the family (default: the newest completed snapshot's).
    :param bucket: the top-``bucket`` cut of every snapshot (None: the whole list).
    :raises UserError: an unknown family, layer or metric, or a provider with a layer metric.
    """
    summary.check_choice("weight", weight, summary.WEIGHTS)
    summary.check_choice("level", level, summary.LEVELS)
    if metric not in METRICS:
        raise UserError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
    if provider is not None and metric in LAYER_METRICS:
        raise UserError(f"--provider goes with a provider metric ({', '.join(PROVIDER_METRICS)}), not {metric}")
    family = list_name or latest_family(con)
    snaps = family_snapshots(con, family)
    if not snaps:
        known = [r[0] for r in con.execute(
            "select distinct list_name from snapshots where status = 'complete' order by 1").fetchall()]
        raise UserError(f"no completed snapshot of list {family!r} (lists: {', '.join(known) or 'none'})")
    sids = [int(s["snapshot_id"]) for s in snaps]
    newest = sids[-1]
    layers = summary.snapshot_layers(con, newest)
    if layer not in layers:
        raise UserError(f"unknown layer {layer!r} (one of {', '.join(layers)})")
    summary.list_positions(con, newest).check_bucket(bucket)
    opts: dict[str, Any] = {"cuts": [bucket], "layers": [layer], "weight": weight, "level": level}

    providers: list[str] | None = None
    points: list[dict[str, Any]] = []
    by_sid = {int(s["snapshot_id"]): s for s in snaps}
    if metric in LAYER_METRICS:
        rows = {r["snapshot_id"]: r for r in summary.layer_rows(con, sids, **opts)}
        for sid in sids:
            row = rows[sid]
            points.append({**_point(by_sid[sid]), "sites": int(row["sites"]), "attributed": int(row["attributed"]),
                           "value": row[metric]})
    else:
        if provider is not None:
            providers = [provider]
        else:
            newest_rows = summary.provider_rows(con, [newest], **opts)
            newest_rows.sort(key=lambda r: (-round(r[metric], 12), r["provider"]))  # noise never reorders
            providers = [r["provider"] for r in newest_rows[:top]]
        found = {(r["snapshot_id"], r["provider"]): r
                 for r in summary.provider_rows(con, sids, providers=providers, **opts)}
        for sid in sids:
            for p in providers:
                r = found.get((sid, p))
                points.append({**_point(by_sid[sid]), "provider": p, "sites": int(r["sites"]) if r else 0,
                               "value": float(r[metric]) if r else 0.0})
    return {
        "list_name": family, "layer": layer, "metric": metric, "weighting": weight, "level": level,
        "bucket": bucket, "providers": providers, "points": points,
    }


def _point(snap: dict[str, Any]) -> dict[str, Any]:
    return {"snapshot_id": int(snap["snapshot_id"]), "list_date": summary.jsonable(snap["list_date"]),
            "started_at": summary.jsonable(snap["started_at"])}


def format_value(metric: str, value: float) -> str:
    """A metric value for a table: fractions as percentages, HHI and Nakamoto as integers."""
    if metric in FRACTIONS:
        return f"{100.0 * value:.1f}%"
    if metric in ("hhi", "nakamoto"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def pivot(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The trend as a table: one row per snapshot, one value column (or one per provider)."""
    metric = data["metric"]
    providers = data["providers"]
    columns = ["snapshot", "list date", "started"]
    if providers is None:
        columns += ["sites", "attributed", metric]
        rows = [[str(p["snapshot_id"]), str(p["list_date"] or ""), str(p["started_at"])[:16],
                 str(p["sites"]), str(p["attributed"]), format_value(metric, p["value"])] for p in data["points"]]
        return columns, rows
    columns += list(providers)
    rows = []
    current: list[str] | None = None
    for p in data["points"]:
        if current is None or current[0] != str(p["snapshot_id"]):
            current = [str(p["snapshot_id"]), str(p["list_date"] or ""), str(p["started_at"])[:16]]
            rows.append(current)
        current.append(format_value(metric, p["value"]))
    return columns, rows


def title(data: dict[str, Any]) -> str:
    cut = f"top {data['bucket']}" if data["bucket"] else "whole list"
    snapshots = len({p["snapshot_id"] for p in data["points"]})
    return (f"{data['metric']} of {data['layer']} over {snapshots} snapshots · list {data['list_name']} · "
            f"{cut} · weighting {data['weighting']} · level {data['level']}")


def to_csv(data: dict[str, Any]) -> str:
    """Long format: one line per point, the settings repeated on every line (tidy data)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["list_name", "layer", "metric", "weighting", "level", "bucket", "snapshot_id", "list_date",
                "started_at", "provider", "sites", "value"])
    for p in data["points"]:
        w.writerow([data["list_name"], data["layer"], data["metric"], data["weighting"], data["level"],
                    "" if data["bucket"] is None else data["bucket"], p["snapshot_id"], p["list_date"] or "",
                    p["started_at"], p.get("provider", ""), p["sites"], repr(float(p["value"]))])
    return out.getvalue()


def to_markdown(data: dict[str, Any]) -> str:
    from analysis.render import md_escape

    columns, rows = pivot(data)
    lines = [f"# {md_escape(title(data))}", "", "| " + " | ".join(md_escape(c) for c in columns) + " |",
             "|" + "|".join("---:" if i >= 3 else "---" for i in range(len(columns))) + "|"]
    lines += ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
