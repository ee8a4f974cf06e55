"""Score a snapshot's attribution against a lab world's ground truth.

Per layer: *accuracy* (share of the snapshot's sites whose attributed provider set equals the
true set; a site with no true provider in a layer is right when none is attributed), precision
and recall over (site, provider) pairs, and the HHI of the report beside the HHI computed from
the truth with the same definition (:func:`analysis.metrics.market_shares`).

    python -m scripts.score_lab --db chokepoints.duckdb --truth .lab/truth.csv [--snapshot latest]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from analysis import metrics
from analysis.summary import LAYERS, snapshot_report
from chokepoints import db


def read_truth(path: Path) -> dict[str, dict[str, set[str]]]:
    """``{layer: {domain: {provider, ...}}}`` from a ``domain,layer,provider`` CSV."""
    truth: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            truth[row["layer"]][row["domain"]].add(row["provider"])
    return truth


def score(con: Any, snapshot_id: int, truth_path: Path) -> dict[str, Any]:
    """Compare one snapshot with the truth; return per-layer figures."""
    truth = read_truth(truth_path)
    sites = [r[0] for r in con.execute(
        "select domain from list_entries where snapshot_id = ?", [snapshot_id]).fetchall()]
    got: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for domain, layer, provider in con.execute(
        "select domain, layer, provider from dependencies where snapshot_id = ?", [snapshot_id]
    ).fetchall():
        got[layer][domain].add(provider)
    report = snapshot_report(con, snapshot_id)
    out: dict[str, Any] = {}
    for layer in LAYERS:
        t, g = truth.get(layer, {}), got.get(layer, {})
        right = sum(1 for s in sites if t.get(s, set()) == g.get(s, set()))
        tp = sum(len(t.get(s, set()) & g.get(s, set())) for s in sites)
        n_true = sum(len(t.get(s, set())) for s in sites)
        n_got = sum(len(g.get(s, set())) for s in sites)
        truth_hhi = metrics.hhi(metrics.market_shares({s: t[s] for s in sites if s in t}).values())
        report_hhi = report["layers"][layer]["hhi"]
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--db", type=Path, default=db.DEFAULT_DB)
    ap.add_argument("--truth", type=Path, default=Path(".lab/truth.csv"))
    ap.add_argument("--snapshot", default="latest")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    con = db.connect(args.db, read_only=True)
    try:
        result = score(con, db.resolve_snapshot(con, args.snapshot), args.truth)
    finally:
        con.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{'layer':8} {'sites':>7} {'accuracy':>9} {'precision':>9} {'recall':>7} "
          f"{'HHI report':>10} {'HHI truth':>10} {'diff':>7}")
    for layer, r in result.items():
        print(f"{layer:8} {r['sites']:>7} {r['accuracy']:>9.4f} {r['precision']:>9.4f} {r['recall']:>7.4f} "
              f"{r['hhi_report']:>10.1f} {r['hhi_truth']:>10.1f} {100 * r['hhi_rel_diff']:>6.2f}%")
    ok = all(r["accuracy"] >= 0.99 and r["hhi_rel_diff"] <= 0.01 for r in result.values())
    print("PASS: every layer >= 99% of sites right and HHI within 1%" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
