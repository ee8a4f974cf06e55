"""Score a snapshot's attribution against a lab world's ground truth.

Per layer: *accuracy* (share of the snapshot's sites whose attributed provider set equals the
true set; a site with no true provider in a layer is right when none is attributed), precision
and recall over (site, provider) pairs, and the HHI of the report beside the HHI computed from
the truth with the same definition (:func:`analysis.metrics.market_shares`).

A snapshot with HTTP data (``http_outcomes`` rows) is also scored on the layers only an HTTP
crawl sees: cdn (CNAME chains and response headers), ca and third_party, against the world's
``truth_http.csv`` (``--truth-http``, default: beside ``--truth`` when the snapshot has HTTP
data); and its third-party hosts (``page_resources`` rows flagged ``third_party``) are compared
with ``resources.csv`` (``--resources``, default: beside ``--truth``), "n/a" without that table.

    python -m scripts.score_lab --db chokepoints.duckdb --truth .lab/truth.csv [--snapshot latest]
        [--truth-http .lab/truth_http.csv] [--resources .lab/resources.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from analysis import metrics
from analysis.summary import LAYERS, snapshot_report
from chokepoints import db

#: layers an HTTP crawl adds or changes (scored against truth_http.csv)
HTTP_LAYERS = ("cdn", "ca", "third_party")


def read_truth(path: Path) -> dict[str, dict[str, set[str]]]:
    """``{layer: {domain: {provider, ...}}}`` from a ``domain,layer,provider`` CSV."""
    truth: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            truth[row["layer"]][row["domain"]].add(row["provider"])
    return truth


def has_http(con: Any, snapshot_id: int) -> bool:
    """True when the snapshot holds home-page outcomes (a crawl with HTTP)."""
    try:
        row = con.execute("select count(*) from http_outcomes where snapshot_id = ?", [snapshot_id]).fetchone()
    except duckdb.Error:  # a database from before the HTTP layer
        return False
    return bool(row and row[0])


def score(con: Any, snapshot_id: int, truth_path: Path, truth_http: Path | None = None) -> dict[str, Any]:
    """Compare one snapshot with the truth; return per-layer figures.

    :param truth_http: the world's HTTP truth: cdn, ca and third_party are scored against it.
    """
    truth = read_truth(truth_path)
    layers = list(LAYERS)
    if truth_http is not None:
        http = read_truth(truth_http)
        for layer in HTTP_LAYERS:
            truth[layer] = http.get(layer, defaultdict(set))
            if layer not in layers:
                layers.append(layer)
    sites = [r[0] for r in con.execute(
        "select domain from list_entries where snapshot_id = ?", [snapshot_id]).fetchall()]
    got: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for domain, layer, provider in con.execute(
        "select domain, layer, provider from dependencies where snapshot_id = ?", [snapshot_id]
    ).fetchall():
        got[layer][domain].add(provider)
    report = snapshot_report(con, snapshot_id)
    out: dict[str, Any] = {}
    for layer in layers:
        t, g = truth.get(layer, {}), got.get(layer, {})
        right = sum(1 for s in sites if t.get(s, set()) == g.get(s, set()))
        tp = sum(len(t.get(s, set()) & g.get(s, set())) for s in sites)
        n_true = sum(len(t.get(s, set())) for s in sites)
        n_got = sum(len(g.get(s, set())) for s in sites)
        truth_hhi = metrics.hhi(metrics.market_shares({s: t[s] for s in sites if s in t}).values())
        in_report = report["layers"].get(layer)
        report_hhi = (in_report["hhi"] if in_report is not None
                      else metrics.hhi(metrics.market_shares({s: g[s] for s in sites if s in g}).values()))
        wrong = [s for s in sites if t.get(s, set()) != g.get(s, set())][:5]
        out[layer] = {
            "sites": len(sites),
            "accuracy": right / len(sites) if sites else 1.0,
            "precision": tp / n_got if n_got else 1.0,
            "recall": tp / n_true if n_true else 1.0,
            "hhi_report": report_hhi,
            "hhi_truth": truth_hhi,
            "hhi_rel_diff": abs(report_hhi - truth_hhi) / truth_hhi if truth_hhi else 0.0,
            "examples_wrong": {s: {"truth": sorted(t.get(s, set())), "got": sorted(g.get(s, set()))}
                               for s in wrong},
        }
    return out


def read_resources(path: Path) -> dict[str, set[str]]:
    """``{domain: {host, ...}}`` from a ``domain,host`` CSV."""
    out: dict[str, set[str]] = defaultdict(set)
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["domain"]].add(row["host"])
    return out


def score_resources(con: Any, snapshot_id: int, resources_path: Path) -> dict[str, Any] | None:
    """Compare the snapshot's third-party hosts (``page_resources``) with ``resources.csv``.

    :returns: sites whose host set is exactly right, precision and recall over (site, host)
        pairs; None when the database has no ``page_resources`` table.
    """
    try:
        rows = con.execute("select distinct domain, host from page_resources where snapshot_id = ? and third_party",
                           [snapshot_id]).fetchall()
    except duckdb.Error:
        return None
    truth = read_resources(resources_path)
    got: dict[str, set[str]] = defaultdict(set)
    for domain, host in rows:
        got[domain].add(host)
    sites = [r[0] for r in con.execute(
        "select domain from list_entries where snapshot_id = ?", [snapshot_id]).fetchall()]
    right = sum(1 for s in sites if truth.get(s, set()) == got.get(s, set()))
    tp = sum(len(truth.get(s, set()) & got.get(s, set())) for s in sites)
    n_true = sum(len(truth.get(s, set())) for s in sites)
    n_got = sum(len(got.get(s, set())) for s in sites)
    wrong = [s for s in sites if truth.get(s, set()) != got.get(s, set())][:5]
    return {
        "sites": len(sites),
        "accuracy": right / len(sites) if sites else 1.0,
        "precision": tp / n_got if n_got else 1.0,
        "recall": tp / n_true if n_true else 1.0,
        "examples_wrong": {s: {"missing": sorted(truth.get(s, set()) - got.get(s, set())),
                               "extra": sorted(got.get(s, set()) - truth.get(s, set()))} for s in wrong},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--db", type=Path, default=db.DEFAULT_DB)
    ap.add_argument("--truth", type=Path, default=Path(".lab/truth.csv"))
    ap.add_argument("--truth-http", type=Path, default=None,
                    help="the world's truth_http.csv (default: beside --truth, when the snapshot has HTTP data)")
    ap.add_argument("--resources", type=Path, default=None,
                    help="the world's resources.csv (default: beside --truth)")
    ap.add_argument("--snapshot", default="latest")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    con = db.connect(args.db, read_only=True)
    try:
        sid = db.resolve_snapshot(con, args.snapshot)
        http = has_http(con, sid)
        truth_http = args.truth_http
        if truth_http is None and http and (args.truth.parent / "truth_http.csv").exists():
            truth_http = args.truth.parent / "truth_http.csv"
        resources_path = args.resources or args.truth.parent / "resources.csv"
        result = score(con, sid, args.truth, truth_http)
        resources = score_resources(con, sid, resources_path) if resources_path.exists() else None
    finally:
        con.close()
    if args.json:
        print(json.dumps({**result, "resources": resources}, indent=2))
        return 0
    print(f"{'layer':11} {'sites':>7} {'accuracy':>9} {'precision':>9} {'recall':>7} "
          f"{'HHI report':>10} {'HHI truth':>10} {'diff':>7}")
    for layer, r in result.items():
        print(f"{layer:11} {r['sites']:>7} {r['accuracy']:>9.4f} {r['precision']:>9.4f} {r['recall']:>7.4f} "
              f"{r['hhi_report']:>10.1f} {r['hhi_truth']:>10.1f} {100 * r['hhi_rel_diff']:>6.2f}%")
    if resources is None:
        print(f"{'resources':11} n/a")
    else:
        print(f"{'resources':11} {resources['sites']:>7} {resources['accuracy']:>9.4f} "
              f"{resources['precision']:>9.4f} {resources['recall']:>7.4f}")
    ok = all(r["accuracy"] >= 0.99 and r["hhi_rel_diff"] <= 0.01 for r in result.values())
    ok = ok and (resources is None or resources["accuracy"] >= 0.99)
    print("PASS: every layer >= 99% of sites right and HHI within 1%" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
