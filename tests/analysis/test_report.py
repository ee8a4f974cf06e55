"""``snapshot_report`` and ``chokepoints report``: weighting, cuts, critical vs redundant."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analysis import summary
from chokepoints import db
from chokepoints.errors import UserError
from tests.analysis.gen_db import Site, insert_snapshot
from tests.cli import run


def test_python_and_sql_engines_give_the_same_report(generated: duckdb.DuckDBPyConnection) -> None:
    for weight in summary.WEIGHTS:
        for level in summary.LEVELS:
            py = summary.snapshot_report(generated, 2, level, weight=weight, engine="python")
            sql = summary.snapshot_report(generated, 2, level, weight=weight, engine="sql")
            assert py["snapshot"] == sql["snapshot"]
            # Parallel sums in DuckDB add in no fixed order: equal to the last few bits only.
            assert approx(py["buckets"]) == sql["buckets"]
            for layer, a in py["layers"].items():
                b = sql["layers"][layer]
                assert [p["provider"] for p in a["providers"]] == [p["provider"] for p in b["providers"]]
                assert approx(a["providers"]) == b["providers"]
                for key in ("hhi", "gini", "entropy", "entropy_normalised"):
                    assert math.isclose(a[key], b[key], rel_tol=1e-9), (layer, key)
                assert a["nakamoto"] == b["nakamoto"]
                assert all(math.isclose(a["cr"][k], b["cr"][k], rel_tol=1e-9) for k in a["cr"])


def approx(value: Any) -> Any:
    """``value`` with every float wrapped in pytest.approx, for nested comparison."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-9, abs=1e-12)
    if isinstance(value, dict):
        return {k: approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [approx(v) for v in value]
    return value


def test_the_json_shape_stays_backward_compatible(generated: duckdb.DuckDBPyConnection) -> None:
    report = summary.snapshot_report(generated, 1)
    assert report["snapshot"]["weighting"] == "uniform" and report["snapshot"]["level"] == "provider"
    assert report["snapshot"]["weight_by"] == "1 per site" and report["snapshot"]["bucket"] is None
    assert list(report["layers"]) == ["hosting", "dns", "cdn", "email"]
    for data in report["layers"].values():
        assert {"sites", "attributed", "hhi", "cr", "nakamoto", "providers"} <= set(data)
        assert set(data["cr"]) == {"1", "3", "5"}
        assert data["sites"] == data["attributed"] + data["unattributed"]
        assert math.isclose(data["critical"] + data["redundant"] + data["unattributed_share"], 1.0)
        assert math.isclose(sum(p["share"] for p in data["providers"]), 1.0)
        for p in data["providers"]:
            assert {"provider", "sites", "share", "dependence", "critical"} <= set(p)
            assert math.isclose(p["dependence"], p["critical"] + p["redundant"], abs_tol=1e-12)
            assert p["sites"] == p["critical_sites"] + p["redundant_sites"]
        # Sites on one provider alone are counted once, in that provider's critical share.
        assert math.isclose(sum(p["critical"] for p in data["providers"]), data["critical"])


def test_popularity_weights_by_rank_or_by_bucket() -> None:
    con = db.connect(":memory:")
    ranked = [Site("a.example", 1, deps={"hosting": ["x"]}), Site("b.example", 2, deps={"hosting": ["y"]}),
              Site("c.example", 4, deps={"hosting": ["y"]}), Site("d.example", 3)]
    insert_snapshot(con, 1, ranked)
    r = summary.snapshot_report(con, 1, weight="popularity")
    hosting = {p["provider"]: p for p in r["layers"]["hosting"]["providers"]}
    assert r["snapshot"]["weight_by"] == "1/rank"
    assert math.isclose(hosting["x"]["share"], 1 / (1 + 1 / 2 + 1 / 4))
    assert math.isclose(hosting["x"]["dependence"], 1 / (1 + 1 / 2 + 1 / 3 + 1 / 4))
    # A bucketed list: the alphabetical rank inside a bucket carries no weight.
    bucketed = [Site("a.example", 1, 1000, {"hosting": ["x"]}), Site("b.example", 2, 1000, {"hosting": ["y"]}),
                Site("c.example", 3, 5000, {"hosting": ["y"]})]
    insert_snapshot(con, 2, bucketed, list_name="crux")
    r = summary.snapshot_report(con, 2, weight="popularity")
    hosting = {p["provider"]: p for p in r["layers"]["hosting"]["providers"]}
    assert r["snapshot"]["weight_by"] == "1/bucket" and r["snapshot"]["bucketed"]
    assert math.isclose(hosting["x"]["share"], (1 / 1000) / (2 / 1000 + 1 / 5000))
    assert r["snapshot"]["buckets"] == [1000, 5000]
    top = summary.snapshot_report(con, 2, bucket=1000)
    assert top["layers"]["hosting"]["sites"] == 2 and top["snapshot"]["bucket"] == 1000
    with pytest.raises(UserError, match="bucketed"):
        summary.snapshot_report(con, 2, bucket=2000)
    con.close()


def test_cuts_of_a_ranked_list(generated: duckdb.DuckDBPyConnection) -> None:
    positions = summary.list_positions(generated, 1)
    assert positions.deepest == 3000 and not positions.bucketed
    assert positions.cuts() == [1000, 10000]
    assert positions.cuts(1000) == [1000]
    assert positions.cuts(500) == [500]
    report = summary.snapshot_report(generated, 1, bucket=1000)
    assert report["layers"]["hosting"]["sites"] == 1000
    (b,) = report["buckets"]
    assert b["bucket"] == 1000 and b["sites"] == 1000
    assert math.isclose(b["layers"]["hosting"]["hhi"], report["layers"]["hosting"]["hhi"])
    assert b["layers"]["hosting"]["top_provider"] == report["layers"]["hosting"]["providers"][0]["provider"]


def _json(*args: Any) -> Any:
    r = run(*args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_report_command_options(generated_file: Path) -> None:
    data = _json("report", "--snapshot", "2", "--format", "json", "--weight", "popularity", "--bucket", "1000",
                 "--db", generated_file)
    assert data["snapshot"]["weighting"] == "popularity" and data["snapshot"]["bucket"] == 1000
    assert data["layers"]["hosting"]["sites"] == 1000 and [b["bucket"] for b in data["buckets"]] == [1000]
    md = run("report", "--snapshot", "2", "--format", "md", "--db", generated_file)
    assert "| redundant |" in md.stdout and "## Per popularity bucket" in md.stdout
    assert "weighting uniform (1 per site)" in md.stdout
    table = run("report", "--snapshot", "6", "--weight", "popularity", "--level", "org", "--db", generated_file)
    assert table.returncode == 0, table.stderr
    assert "weighting popularity (1/bucket)" in table.stdout and "Amazon" in table.stdout
    bad = run("report", "--snapshot", "6", "--bucket", "20", "--db", generated_file)
    assert bad.returncode == 1 and "bucketed" in bad.stderr and "Traceback" not in bad.stderr
