"""``trend`` and ``diff``: over the snapshots of a list family, and between two snapshots."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analysis import diff, summary, trend
from chokepoints import db
from chokepoints.errors import UserError
from tests.analysis.gen_db import Site, insert_snapshot
from tests.cli import run


def test_a_layer_metric_per_snapshot_equals_the_report(generated: duckdb.DuckDBPyConnection) -> None:
    data = trend.trend(generated, layer="dns", metric="hhi", weight="popularity", bucket=1000)
    assert data["list_name"] == "tranco" and data["weighting"] == "popularity" and data["providers"] is None
    assert [p["snapshot_id"] for p in data["points"]] == [1, 2, 3]
    for point in data["points"]:
        report = summary.snapshot_report(generated, point["snapshot_id"], weight="popularity", bucket=1000,
                                         buckets=False)
        assert math.isclose(point["value"], report["layers"]["dns"]["hhi"], rel_tol=1e-9)
        assert point["sites"] == 1000


def test_a_provider_metric_follows_the_top_providers(generated: duckdb.DuckDBPyConnection) -> None:
    data = trend.trend(generated, layer="hosting", metric="critical", top=3)
    report = summary.snapshot_report(generated, 3, buckets=False)
    by_critical = sorted(report["layers"]["hosting"]["providers"], key=lambda p: (-p["critical"], p["provider"]))
    assert data["providers"] == [p["provider"] for p in by_critical[:3]]
    assert len(data["points"]) == 9
    one = trend.trend(generated, layer="hosting", metric="share", provider="h2")
    assert [p["provider"] for p in one["points"]] == ["h2"] * 3
    absent = trend.trend(generated, layer="hosting", metric="share", provider="nobody")
    assert [p["value"] for p in absent["points"]] == [0.0, 0.0, 0.0]


def test_trend_refuses_what_it_cannot_answer(generated: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(UserError, match="no completed snapshot of list 'umbrella'"):
        trend.trend(generated, layer="dns", metric="hhi", list_name="umbrella")
    with pytest.raises(UserError, match="unknown layer"):
        trend.trend(generated, layer="ca2", metric="hhi")
    with pytest.raises(UserError, match="provider metric"):
        trend.trend(generated, layer="dns", metric="hhi", provider="d1")


def test_trend_command_orders_the_family_and_skips_failed_snapshots(generated_file: Path) -> None:
    r = run("trend", "--layer", "hosting", "--metric", "hhi", "--list-name", "tranco", "--format", "json",
            "--db", generated_file)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    # Snapshot 5's list is the oldest though it was crawled last; snapshot 4 failed.
    assert [p["snapshot_id"] for p in data["points"]] == [5, 1, 2, 3]
    r = run("trend", "--layer", "dns", "--metric", "share", "--top", "2", "--list-name", "tranco", "--format",
            "csv", "--weight", "popularity", "--db", generated_file)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 8 and {row["weighting"] for row in rows} == {"popularity"}
    assert [row["snapshot_id"] for row in rows[::2]] == ["5", "1", "2", "3"]
    # Without --list-name: the family of the newest completed snapshot (radar).
    r = run("trend", "--layer", "dns", "--metric", "critical", "--provider", "cloudflare", "--format", "md",
            "--db", generated_file)
    assert r.returncode == 0 and "list radar" in r.stdout and "| 75.0% |" in r.stdout
    r = run("trend", "--layer", "dns", "--metric", "nakamoto", "--db", generated_file)
    assert r.returncode == 0 and "nakamoto of dns over 1 snapshots" in r.stdout
    r = run("trend", "--layer", "dns", "--metric", "hhi", "--list-name", "nope", "--db", generated_file)
    assert r.returncode == 1 and "no completed snapshot of list 'nope'" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def two() -> Any:
    con = db.connect(":memory:")
    a = [Site("a.example", 1, deps={"hosting": ["x"]}), Site("b.example", 2, deps={"hosting": ["x"]}),
         Site("c.example", 3, deps={"hosting": ["x", "y"]}), Site("d.example", 4, deps={"hosting": ["y"]}),
         Site("e.example", 5), Site("f.example", 6, deps={"hosting": ["x"]})]
    b = [Site("a.example", 1, deps={"hosting": ["x"]}), Site("b.example", 2, deps={"hosting": ["y"]}),
         Site("c.example", 3, deps={"hosting": ["y"]}), Site("d.example", 4),
         Site("e.example", 5, deps={"hosting": ["z"]}), Site("g.example", 6, deps={"hosting": ["x"]})]
    insert_snapshot(con, 1, a)
    insert_snapshot(con, 2, b)
    yield con
    con.close()


def test_diff_counts_every_kind_of_move(two: duckdb.DuckDBPyConnection) -> None:
    data = diff.diff(two, 1, 2, layers=["hosting"])
    hosting = data["layers"]["hosting"]
    assert hosting["sites"] == {"a": 6, "b": 6, "common": 5, "unchanged": 1, "moved": 2, "gained": 1, "lost": 1,
                                "unattributed": 0, "appeared": 1, "disappeared": 1}
    moves = {(m["kind"], tuple(m["from"] or ()), tuple(m["to"] or ())): m["sites"] for m in hosting["migrations"]}
    assert moves == {("moved", ("x",), ("y",)): 1, ("moved", ("x", "y"), ("y",)): 1, ("lost", ("y",), ()): 1,
                     ("gained", (), ("z",)): 1, ("appeared", (), ("x",)): 1, ("disappeared", ("x",), ()): 1}
    providers = {p["provider"]: p for p in hosting["providers"]}
    assert (providers["x"]["gained"], providers["x"]["lost"]) == (0, 2)
    assert (providers["y"]["gained"], providers["y"]["lost"]) == (1, 1)
    assert (providers["z"]["gained"], providers["z"]["lost"]) == (1, 0)
    ra = summary.snapshot_report(two, 1, buckets=False)["layers"]["hosting"]
    rb = summary.snapshot_report(two, 2, buckets=False)["layers"]["hosting"]
    hhi = hosting["metrics"]["hhi"]
    assert math.isclose(hhi["a"], ra["hhi"]) and math.isclose(hhi["b"], rb["hhi"])
    assert math.isclose(hhi["delta"], rb["hhi"] - ra["hhi"])
    assert hosting["metrics"]["attributed"] == {"a": 5, "b": 5, "delta": 0}
    assert math.isclose(providers["x"]["share_delta"], providers["x"]["share_b"] - providers["x"]["share_a"])


def test_diff_command(generated_file: Path) -> None:
    r = run("diff", "1", "2", "--layer", "hosting", "--format", "json", "--db", generated_file)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert list(data["layers"]) == ["hosting"] and data["a"]["snapshot_id"] == 1
    sites = data["layers"]["hosting"]["sites"]
    assert sites["moved"] > 0 and sites["appeared"] > 0 and sites["common"] + sites["disappeared"] == sites["a"]
    md = run("diff", "1", "2", "--format", "md", "--level", "org", "--db", generated_file)
    assert md.returncode == 0 and md.stdout.startswith("# Diff: snapshot 1") and "## email" in md.stdout
    table = run("diff", "1", "latest", "--layer", "dns", "--db", generated_file)
    assert table.returncode == 0 and "largest share changes" in table.stdout
    bad = run("diff", "1", "99", "--db", generated_file)
    assert bad.returncode == 1 and "no snapshot 99" in bad.stderr
    bad = run("diff", "1", "2", "--layer", "nope", "--db", generated_file)
    assert bad.returncode == 1 and "unknown layer 'nope'" in bad.stderr
