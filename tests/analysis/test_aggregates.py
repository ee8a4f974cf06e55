"""Stored sums (``metric_weights``, :mod:`analysis.aggregates`) give the same numbers as the
sums computed from the crawl's rows: report, trend and diff, both weightings, both
levels, cuts, ranked and bucketed lists; and they are written, replaced, exported and deleted
with their snapshot."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analysis import aggregates, diff, snapshots, summary, trend
from chokepoints import db, exchange
from tests.analysis.conftest import radar_sites
from tests.analysis.gen_db import Site, generate, insert_snapshot

ORGS = {"aws": "Amazon", "cloudfront": "Amazon", "h1": "org1", "h2": "org1", "d1": "org1"}


def same(a: Any, b: Any, path: str = "") -> None:
    """``a`` equals ``b``: exactly, but floats to 1e-10 relative (DuckDB adds in no fixed order, so
    sums differ in their last bits, and a report rounds to 12 significant digits)."""
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-15), (path, a, b)
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


@pytest.fixture(scope="module")
def stored() -> Iterator[duckdb.DuckDBPyConnection]:
    """Three ranked snapshots of 3,000 generated sites and a bucketed one, weights stored."""
    con = db.connect(":memory:")
    generate(con, snapshots=3, sites=3000, seed=7)
    con.execute("update providers set org = 'org' || (try_cast(substr(provider, 2) as integer) % 3)"
                " where try_cast(substr(provider, 2) as integer) <= 12")
    for sid in (1, 2, 3):
        aggregates.store(con, sid)
    insert_snapshot(con, 4, radar_sites(), list_name="radar", orgs=ORGS, store=True)
    yield con
    con.close()


@pytest.mark.parametrize("weight", summary.WEIGHTS)
@pytest.mark.parametrize("level", summary.LEVELS)
@pytest.mark.parametrize("sid,bucket", [(2, None), (2, 1000), (2, 10000), (4, None), (4, 10)])
def test_the_report_is_the_same_from_stored_and_computed_weights(
    stored: duckdb.DuckDBPyConnection, sid: int, bucket: int | None, weight: str, level: str,
) -> None:
    a = summary.snapshot_report(stored, sid, level, weight=weight, bucket=bucket, source="stored")
    b = summary.snapshot_report(stored, sid, level, weight=weight, bucket=bucket, source="computed")
    assert a["buckets"] and all(layer["providers"] for layer in a["layers"].values() if layer["attributed"])
    same(a, b)
    for engine in ("python", "sql"):
        same(summary.snapshot_report(stored, sid, level, weight=weight, bucket=bucket, engine=engine),
             summary.snapshot_report(stored, sid, level, weight=weight, bucket=bucket, engine=engine,
                                     source="computed"))


@pytest.mark.parametrize("cuts", [[None, 1000, 10000], [1000], [10000, None]])
def test_every_row_is_the_same_from_stored_and_computed_weights(
    stored: duckdb.DuckDBPyConnection, cuts: list[int | None],
) -> None:
    for weight in summary.WEIGHTS:
        for level in summary.LEVELS:
            opts: dict[str, Any] = {"cuts": cuts, "weight": weight, "level": level}
            same(summary.layer_rows(stored, [1, 2, 3], source="stored", **opts),
                 summary.layer_rows(stored, [1, 2, 3], source="computed", **opts))
            same(summary.provider_rows(stored, [1, 2, 3], source="stored", **opts),
                 summary.provider_rows(stored, [1, 2, 3], source="computed", **opts))


def test_trend_and_diff_are_the_same_either_way(stored: duckdb.DuckDBPyConnection, monkeypatch: Any) -> None:
    calls = [
        lambda: trend.trend(stored, layer="hosting", metric="hhi", list_name="tranco"),
        lambda: trend.trend(stored, layer="dns", metric="share", list_name="tranco", weight="popularity",
                            level="org", bucket=1000),
        lambda: trend.trend(stored, layer="cdn", metric="critical", provider="c1", list_name="tranco"),
        lambda: diff.diff(stored, 1, 3, weight="popularity"),
        lambda: diff.diff(stored, 1, 2, level="org"),
    ]
    want = [call() for call in calls]
    real = summary.metric_rows

    def computed(*args: Any, **kwargs: Any) -> Any:
        return real(*args, **{**kwargs, "source": "computed"})

    monkeypatch.setattr(summary, "metric_rows", computed)
    for call, expected in zip(calls, want, strict=True):
        same(call(), expected)


def test_an_unstored_cut_or_snapshot_is_computed(stored: duckdb.DuckDBPyConnection) -> None:
    assert summary.stored_snapshots(stored, [1, 2, 3, 4], [None, 1000], level="org") == {1, 2, 3}
    assert summary.stored_snapshots(stored, [4], [10, 50], level="provider") == {4}
    assert summary.stored_snapshots(stored, [1, 2], [None, 1500], level="provider") == set()
    # The per-bucket table's cuts are stored: the top 1k and 10k of a 3,000-site list, not 100k.
    assert summary.stored_snapshots(stored, [1], [100000], level="provider") == set()
    with pytest.raises(ValueError, match="no stored sums"):
        summary.layer_rows(stored, [1], cuts=[1500], source="stored")
    report = summary.snapshot_report(stored, 1, bucket=1500)  # a cut no snapshot stores
    assert report["layers"]["hosting"]["sites"] == 1500
    same(report, summary.snapshot_report(stored, 1, bucket=1500, source="computed"))
    # Snapshots with and without stored weights in one trend: each taken where it is.
    con = db.connect(":memory:")
    try:
        generate(con, snapshots=3, sites=500, seed=2, store=False)
        aggregates.store(con, 2)
        assert aggregates.missing(con) == [1, 3]
        mixed = trend.trend(con, layer="dns", metric="hhi")
        assert [p["snapshot_id"] for p in mixed["points"]] == [1, 2, 3]
        assert sorted(aggregates.backfill(con)) == [1, 3]
        assert aggregates.missing(con) == []
        same(trend.trend(con, layer="dns", metric="hhi"), mixed)
    finally:
        con.close()


def test_stored_rows_are_replaced_and_deleted_with_their_snapshot() -> None:
    con = db.connect(":memory:")
    try:
        sites = [Site("a.example", 1, deps={"hosting": ["x"], "dns": ["n1", "n2"]}),
                 Site("b.example", 2, deps={"hosting": ["x", "y"]}), Site("c.example", 3)]
        insert_snapshot(con, 1, sites, store=True)
        first = aggregates.store(con, 1)
        assert aggregates.store(con, 1) == first  # replaced, not added
        whole = {(r[0], r[1]): r[2:] for r in con.execute(
            "select level, layer, sites, critical_sites, share_sites, popularity, critical_popularity,"
            " redundant_popularity from metric_weights where cut is null and provider is null").fetchall()}
        # The measured sites of the cut, then the attributed sites of a layer, then a provider's.
        assert whole[("provider", None)] == (3, None, None, pytest.approx(1 + 1 / 2 + 1 / 3), None, None)
        assert whole[("provider", "hosting")] == (2, 1, None, 1.5, 1.0, 0.5)
        assert whole[("org", "dns")] == (1, 0, None, 1.0, 0.0, 1.0)
        rows = {r[0]: r[1:] for r in con.execute(
            "select provider, sites, critical_sites, share_sites, popularity, share_popularity from metric_weights"
            " where cut is null and level = 'provider' and layer = 'hosting' and provider is not null").fetchall()}
        assert rows["x"] == (2, 1, 1.5, 1.5, 1.25) and rows["y"] == (1, 0, 0.5, 0.5, 0.25)
        snapshots.delete(con, [1])
        assert con.execute("select count(*) from metric_weights").fetchall() == [(0,)]
    finally:
        con.close()


def test_a_database_without_the_table_still_reports(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = db.connect(path)
    generate(con, snapshots=2, sites=400, seed=9)
    want = summary.snapshot_report(con, 2, weight="popularity")
    con.execute("drop table metric_weights")  # as a database older than migration 0008
    con.execute("delete from schema_migrations where version = 8")
    con.close()
    con = db.connect(path, read_only=True)
    try:
        assert summary.stored_snapshots(con, [1, 2], [None], level="provider") == set()
        same(summary.snapshot_report(con, 2, weight="popularity"), want)
    finally:
        con.close()


def test_attribution_stores_the_weights(tmp_path: Path) -> None:
    from crawler import asn, registry
    from tests.test_attribution import IPASN, crawl_fake

    p = tmp_path / "ipasn_20260401.dat"
    p.write_text(IPASN)
    con = db.connect(tmp_path / "c.duckdb")
    try:
        sid = crawl_fake(con, asn.open_database(p), registry.load())
        assert aggregates.missing(con) == []
        layers = {r[0] for r in con.execute(
            "select distinct layer from metric_weights where snapshot_id = ? and layer is not null", [sid]).fetchall()}
        assert layers == {r[0] for r in con.execute(
            "select distinct layer from dependencies where snapshot_id = ?", [sid]).fetchall()}
        for level in summary.LEVELS:
            same(summary.snapshot_report(con, sid, level, source="stored"),
                 summary.snapshot_report(con, sid, level, source="computed"))
    finally:
        con.close()


def test_the_parquet_export_carries_the_weights(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    con = db.connect(path)
    try:
        generate(con, snapshots=2, sites=600, seed=4)
        con.execute("update snapshots set snapshot_uid = uuid()::varchar")  # as a crawl gives every snapshot
        want = summary.snapshot_report(con, 2, "org", weight="popularity")
        manifest = exchange.export(con, "all", tmp_path / "x")
    finally:
        con.close()
    assert manifest["tables"]["metric_weights"] > 0
    con = db.connect(tmp_path / "x", read_only=True)
    try:
        assert summary.stored_snapshots(con, [1, 2], [None, 1000], level="org") == {1, 2}
        got = summary.snapshot_report(con, 2, "org", weight="popularity")
        assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    finally:
        con.close()


def test_a_resumed_crawl_drops_the_stored_weights() -> None:
    """An interrupted snapshot gets its weights from ``db migrate``; resuming its crawl adds
    outcomes those sums do not count, so they go (attribution stores them again at the end)."""
    from crawler import resume

    con = db.connect(":memory:")
    try:
        insert_snapshot(con, 1, [Site("a.example", 1, deps={"hosting": ["x"]}), Site("b.example", 2)],
                        status="interrupted")
        assert list(aggregates.backfill(con)) == [1]
        resume.clear_partial(con, 1)
        assert con.execute("select count(*) from metric_weights").fetchall() == [(0,)]
        db.append(con, "site_outcomes", {"snapshot_id": [1], "domain": ["c.example"], "status": ["NOERROR"]})
        assert summary.snapshot_report(con, 1)["layers"]["hosting"]["sites"] == 3
    finally:
        con.close()


def test_the_commands_give_the_same_numbers_from_a_file_before_and_after_the_backfill(tmp_path: Path) -> None:
    """On real database files, through the command line (opened read-only, as a user does):
    a database attributed before migration 0008 (no table) gives the numbers of the same
    database with the weights stored; ``db migrate`` then stores exactly what attribution would."""
    from tests.cli import run

    stored = tmp_path / "stored.duckdb"
    con = db.connect(stored)
    try:
        generate(con, snapshots=3, sites=2500, seed=11)  # each snapshot's weights stored, as attribution does
    finally:
        con.close()
    old = tmp_path / "old.duckdb"
    shutil.copy(stored, old)
    con = db.connect(old, apply_migrations=False)
    try:  # as a database migrated and attributed before 0008
        con.execute("drop table metric_weights")
        con.execute("delete from schema_migrations where version = 8")
    finally:
        con.close()
    commands = [
        ["report", "--format", "json", "--weight", "popularity"],
        ["report", "--format", "json", "--snapshot", "1", "--level", "org"],
        ["trend", "--layer", "hosting", "--metric", "hhi", "--weight", "popularity", "--format", "json"],
        ["trend", "--layer", "dns", "--metric", "share", "--level", "org", "--format", "json"],
        ["diff", "1", "3", "--layer", "cdn", "--weight", "popularity", "--format", "json"],
    ]

    def outputs(path: Path) -> list[Any]:
        results = [run(*cmd, "--db", path) for cmd in commands]
        assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
        return [json.loads(r.stdout) for r in results]

    want = outputs(stored)
    same(outputs(old), want)

    r = run("db", "migrate", "--db", old)
    assert r.returncode == 0, r.stderr
    assert "applied migrations 0008" in r.stdout and "metric weights of snapshots 1, 2, 3" in r.stdout
    query = "select * from metric_weights order by all"
    with duckdb.connect(str(stored), read_only=True) as a, duckdb.connect(str(old), read_only=True) as b:
        same([list(row) for row in b.execute(query).fetchall()], [list(row) for row in a.execute(query).fetchall()])
    assert "up to date" in run("db", "migrate", "--db", old).stdout  # nothing left to fill in


def test_reattribution_replaces_the_weights_in_its_transaction(tmp_path: Path, monkeypatch: Any) -> None:
    """Re-attribution with another registry stores the new sums; when storing them fails, the
    whole attribution rolls back (dependencies and sums both as they were)."""
    from crawler import asn, attribution, registry
    from tests.test_attribution import IPASN, crawl_fake

    p = tmp_path / "ipasn_20260401.dat"
    p.write_text(IPASN)
    con = db.connect(tmp_path / "c.duckdb")
    try:
        sid = crawl_fake(con, asn.open_database(p), registry.load())

        def stored_providers() -> set[str]:
            return {r[0] for r in con.execute(
                "select distinct provider from metric_weights where snapshot_id = ? and layer = 'dns'"
                " and level = 'provider' and provider is not null", [sid]).fetchall()}

        assert "as64500" in stored_providers()
        text = Path(registry.load().path).read_text() + (
            '\n[[provider]]\nid = "smallhost"\nname = "Small Host"\norg = "Small"\nasns = [64500]\n')
        (tmp_path / "providers.toml").write_text(text)
        attribution.attribute(con, sid, registry.load(tmp_path / "providers.toml"))
        assert "smallhost" in stored_providers() and "as64500" not in stored_providers()
        for level in summary.LEVELS:
            same(summary.snapshot_report(con, sid, level, source="stored"),
                 summary.snapshot_report(con, sid, level, source="computed"))
        weights = con.execute("select * from metric_weights order by all").fetchall()
        deps = con.execute("select * from dependencies order by all").fetchall()

        real = aggregates.store

        def fail(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> int:
            real(con, snapshot_id)  # the new sums written, then the commit never comes
            raise RuntimeError("disk full")

        monkeypatch.setattr(aggregates, "store", fail)
        with pytest.raises(RuntimeError, match="disk full"):
            attribution.attribute(con, sid, registry.load())  # the registry without smallhost
        assert con.execute("select * from dependencies order by all").fetchall() == deps
        assert con.execute("select * from metric_weights order by all").fetchall() == weights
    finally:
        con.close()
