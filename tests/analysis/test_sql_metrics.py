"""The SQL metrics (analysis/sql, the views) equal the Python reference (analysis.metrics).

Random snapshots are written into a real in-memory DuckDB with the migrations applied, then
every per-provider and per-layer number of ``provider_shares.sql`` / ``layer_metrics.sql`` is
compared with :mod:`analysis.metrics` computed on the same data, for both weightings, both
levels and popularity cuts, on weights computed from the rows and on weights stored
(``metric_weights``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import aggregates, metrics, summary
from chokepoints import db
from tests.analysis.gen_db import Site, insert_snapshot

LAYERS = ["hosting", "cdn"]
POOL = ["a", "b", "c", "d", "e", "f"]
ORGS = {"a": "Org1", "b": "Org1", "c": "Org2"}


@st.composite
def snapshots(draw: st.DrawFn) -> list[Site]:
    n = draw(st.integers(min_value=1, max_value=25))
    ranks = draw(st.permutations(range(1, n + 1)))
    bucketed = draw(st.booleans())
    sites = []
    for i in range(n):
        deps = {layer: draw(st.lists(st.sampled_from(POOL), max_size=3)) for layer in LAYERS}
        bucket = draw(st.sampled_from([5, 10, 50])) if bucketed else None
        sites.append(Site(f"s{i}.example", ranks[i], bucket, deps, draw(st.sampled_from(["NOERROR", "NXDOMAIN"]))))
    return sites


def reference(sites: list[Site], layer: str, weight: str, level: str, cut: int | None) -> dict[str, Any]:
    """Every number of the two SQL files for one layer, by the Python reference."""
    chosen = [s for s in sites if cut is None or (s.bucket or s.rank) <= cut]
    w = {s.domain: 1.0 if weight == "uniform" else 1.0 / (s.bucket or s.rank) for s in chosen}
    sp = {s.domain: {ORGS.get(p, p) if level == "org" else p for p in s.deps.get(layer, [])} for s in chosen}
    total = sum(w.values())
    market = metrics.market_shares(sp, w)
    shares = list(market.values())
    attributed = [d for d, ps in sp.items() if ps]
    return {
        "sites": len(chosen),
        "attributed": len(attributed),
        "critical": sum(w[d] for d, ps in sp.items() if len(ps) == 1) / total if total else 0.0,
        "redundant": sum(w[d] for d, ps in sp.items() if len(ps) > 1) / total if total else 0.0,
        "unattributed_share": sum(w[d] for d, ps in sp.items() if not ps) / total if total else 0.0,
        "providers": len(market),
        **summary.python_scalars(shares),
        "by_provider": {
            p: {
                "sites": sum(1 for ps in sp.values() if p in ps),
                "share": market[p],
                "dependence": metrics.dependence_shares(sp, total, w).get(p, 0.0),
                "critical": metrics.critical_shares(sp, total, w).get(p, 0.0),
                "redundant": metrics.redundant_shares(sp, total, w).get(p, 0.0),
            }
            for p in market
        },
    }


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture(scope="module")
def mem() -> Iterator[duckdb.DuckDBPyConnection]:
    con = db.connect(":memory:")
    yield con
    con.close()


def reset(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("snapshots", "list_entries", "site_outcomes", "dependencies", "providers", "metric_weights"):
        con.execute(f"delete from {table}")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sites=snapshots(), weight=st.sampled_from(summary.WEIGHTS), level=st.sampled_from(summary.LEVELS),
       cut=st.one_of(st.none(), st.integers(min_value=1, max_value=30)))
def test_sql_equals_the_python_reference(
    mem: duckdb.DuckDBPyConnection, sites: list[Site], weight: str, level: str, cut: int | None
) -> None:
    reset(mem)
    insert_snapshot(mem, 1, sites, orgs=ORGS)
    cuts = [None] if cut is None else [None, cut]
    aggregates.store(mem, 1, cuts)
    for source in ("computed", "stored"):
        opts: dict[str, Any] = {"cuts": cuts, "layers": LAYERS, "weight": weight, "level": level, "source": source}
        check_rows(sites, summary.layer_rows(mem, [1], **opts), summary.provider_rows(mem, [1], **opts),
                   weight, level, cuts)


def check_rows(sites: list[Site], layer_rows: list[dict[str, Any]], provider_rows: list[dict[str, Any]],
               weight: str, level: str, cuts: list[int | None]) -> None:
    assert len(layer_rows) == len(cuts) * len(LAYERS)
    for row in layer_rows:
        ref = reference(sites, row["layer"], weight, level, row["cut"])
        for key in ("sites", "attributed", "providers", "nakamoto"):
            assert row[key] == ref[key], (key, row, ref)
        for key in ("critical", "redundant", "unattributed_share", "hhi", "cr1", "cr3", "cr5", "gini", "entropy",
                    "entropy_normalised"):
            assert close(row[key], ref[key]), (key, row[key], ref[key])
        got = {r["provider"]: r for r in provider_rows if r["layer"] == row["layer"] and r["cut"] == row["cut"]}
        assert set(got) == set(ref["by_provider"])
        for p, want in ref["by_provider"].items():
            assert got[p]["sites"] == want["sites"]
            for key in ("share", "dependence", "critical", "redundant"):
                assert close(got[p][key], want[key]), (p, key, got[p][key], want[key])
            assert close(got[p]["dependence"], got[p]["critical"] + got[p]["redundant"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sites=snapshots())
def test_the_views_equal_the_report_queries(mem: duckdb.DuckDBPyConnection, sites: list[Site]) -> None:
    reset(mem)
    insert_snapshot(mem, 1, sites)
    want_layers = {r["layer"]: r for r in summary.layer_rows(mem, [1], layers=LAYERS)}
    for row in db.fetch_dicts(mem, "select * from v_layer_concentration where layer in ('hosting', 'cdn')"):
        want = want_layers[row["layer"]]
        for key, value in row.items():
            if key in ("snapshot_id", "layer", "top_provider"):
                assert value == want[key]
            else:
                assert close(value, want[key]), (key, value, want[key])
    want_providers = {(r["layer"], r["provider"]): r for r in summary.provider_rows(mem, [1], layers=LAYERS)}
    got = db.fetch_dicts(mem, "select * from v_provider_shares")
    assert {(r["layer"], r["provider"]) for r in got} == set(want_providers)
    for row in got:
        want = want_providers[(row["layer"], row["provider"])]
        assert row["level"] == "provider" and row["name"] == row["provider"].upper()
        for key in ("sites", "critical_sites", "redundant_sites"):
            assert row[key] == want[key]
        for key in ("share", "dependence", "critical", "redundant"):
            assert close(row[key], want[key])


def test_snapshot_summary_view_agrees_with_the_report(generated: duckdb.DuckDBPyConnection) -> None:
    rows = db.fetch_dicts(generated, "select * from v_snapshot_summary order by snapshot_id")
    assert [r["snapshot_id"] for r in rows] == [1, 2, 3]
    report = summary.snapshot_report(generated, 2, buckets=False)
    row = rows[1]
    assert row["sites"] == report["snapshot"]["sites"] and row["resolved"] == report["snapshot"]["resolved"]
    for layer, data in report["layers"].items():
        assert row[f"{layer}_attributed"] == data["attributed"]
        assert close(row[f"{layer}_hhi"], data["hhi"])
        assert row[f"{layer}_top"] == data["providers"][0]["provider"]
        assert close(row[f"{layer}_top_share"], data["cr"]["1"])


def test_both_metric_files_include_the_one_chain() -> None:
    chain = db.sql_text("analysis", "shares_chain.sql").rstrip()
    for name in ("provider_shares.sql", "layer_metrics.sql"):
        text = files("analysis").joinpath("sql", name).read_text()
        assert "-- @include shares_chain.sql" in text and text.count("\n-- @weights\n") == 1
        assert chain in db.sql_text("analysis", name)
        for source in ("stored", "computed"):
            query = summary.metric_sql(name, source)
            assert db.sql_text("analysis", f"weights_{source}.sql").rstrip() in query
            assert "-- @weights\n" not in query
    # What attribution stores is the computed chain itself.
    assert db.sql_text("analysis", "weights_computed.sql").rstrip() in db.sql_text("analysis", "metric_weights.sql")


def test_sql_values_are_bound_never_formatted() -> None:
    from importlib.resources import files

    for entry in files("analysis").joinpath("sql").iterdir():
        if entry.name.endswith(".sql"):
            text = entry.read_text(encoding="utf-8")
            assert "{" not in text and "%s" not in text, entry.name
