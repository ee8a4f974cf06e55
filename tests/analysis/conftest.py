"""Generated databases for the analysis tests: real DuckDB, migrations applied, no crawl."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from chokepoints import db
from tests.analysis.gen_db import Site, generate, insert_snapshot


@pytest.fixture(scope="module")
def generated() -> Iterator[duckdb.DuckDBPyConnection]:
    """Three weekly snapshots of 3,000 generated sites, in memory."""
    con = db.connect(":memory:")
    generate(con, snapshots=3, sites=3000, seed=5)
    yield con
    con.close()


@pytest.fixture(scope="session")
def generated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file for the command line: four snapshots of the ``tranco`` family (one of
    them failed, one dated before the others but crawled last) and one ``radar`` snapshot with
    bucketed ranks.
    """
    path = tmp_path_factory.mktemp("gen") / "gen.duckdb"
    con = db.connect(path)
    try:
        generate(con, snapshots=3, sites=1500, seed=3)
        # Failed: left out of trends.
        insert_snapshot(con, 4, [Site("x.example", 1, deps={"hosting": ["h1"]})], status="failed")
        # An older list crawled later: trends order by list date first.
        generate(con, snapshots=1, sites=1500, seed=4, first_id=5)
        con.execute("update snapshots set list_date = date '2025-12-01', started_at = timestamp '2026-03-01'"
                    " where snapshot_id = 5")
        insert_snapshot(con, 6, radar_sites(), list_name="radar", list_date=date(2026, 4, 27),
                        started_at=datetime(2026, 4, 28), orgs={"aws": "Amazon", "cloudfront": "Amazon"})
    finally:
        con.close()
    return path


def radar_sites() -> list[Site]:
    """A small bucketed list: ranks inside a bucket are alphabetical."""
    sites = []
    for i in range(40):
        bucket = 10 if i < 10 else 50
        deps: dict[str, list[str]] = {
            "hosting": ["cloudflare"] if i % 7 == 0 else ["aws"] if i % 3 else ["gcp"],
            "dns": ["route53", "cloudflare"] if i % 4 == 0 else ["cloudflare"],
        }
        if i % 5 == 0:
            deps["cdn"] = ["cloudfront"]
        sites.append(Site(f"site{i:02d}.example", i + 1, bucket, deps))
    return sites
