"""Generated snapshots for the analysis tests, written straight into DuckDB (no crawl).

Two ways in:

* :func:`insert_snapshot` writes one snapshot from exact Python data (sites, ranks, buckets,
  providers per layer), for tests that compare against a reference computed on the same data;
* :func:`generate` writes many big snapshots inside DuckDB with one ``insert ... select`` per
  table and snapshot: skewed provider choice over a long tail, some sites on two or three
  providers, some unattributed, ~5% of sites moving provider between consecutive snapshots
  and ~1% of the list replaced. Like a crawl's attribution, it stores each snapshot's metric
  weights (:func:`analysis.aggregates.store`) unless told not to. For timing by hand::

    python -m tests.analysis.gen_db /tmp/big.duckdb --snapshots 20 --sites 100000
    time chokepoints trend --layer hosting --metric hhi --db /tmp/big.duckdb
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from analysis import aggregates
from chokepoints import db

LAYER_PLAN = (  # layer, provider prefix, share of sites attributed there
    ("hosting", "h", 0.98), ("dns", "d", 0.97), ("cdn", "c", 0.35), ("email", "m", 0.80),
)


@dataclass(frozen=True, slots=True)
class Site:
    """One listed site of a generated snapshot."""

    domain: str
    rank: int
    bucket: int | None = None
    deps: Mapping[str, Sequence[str]] = field(default_factory=dict)  # layer -> providers
    status: str = "NOERROR"


def insert_snapshot(
    con: duckdb.DuckDBPyConnection, snapshot_id: int, sites: Sequence[Site], *,
    list_name: str = "tranco", list_date: date | None = None, started_at: datetime | None = None,
    status: str = "complete", orgs: Mapping[str, str] | None = None, store: bool = False,
) -> None:
    """Write one snapshot: its row, list entries, one outcome per site, dependencies, providers.

    :param orgs: the organisation of some providers (``providers.org``; the rest have none).
    :param store: also store its metric weights, as attribution does (default: not, so that
        the metrics are computed from these rows).
    """
    started = started_at or datetime(2026, 1, 1) + timedelta(days=snapshot_id)
    con.execute(
        "insert into snapshots (snapshot_id, list_name, list_date, top_n, sites, tool_version, started_at,"
        " finished_at, status) values (?, ?, ?, ?, ?, 'test', ?, ?, ?)",
        [snapshot_id, list_name, list_date or started.date(), len(sites), len(sites), started,
         started + timedelta(hours=1), status])
    db.append(con, "list_entries", {
        "snapshot_id": [snapshot_id] * len(sites), "rank": [s.rank for s in sites],
        "domain": [s.domain for s in sites], "bucket": [s.bucket for s in sites]})
    db.append(con, "site_outcomes", {
        "snapshot_id": [snapshot_id] * len(sites), "domain": [s.domain for s in sites],
        "status": [s.status for s in sites]})
    deps = [(s.domain, layer, p) for s in sites for layer, ps in s.deps.items() for p in ps]
    db.append(con, "dependencies", {
        "snapshot_id": [snapshot_id] * len(deps), "domain": [d[0] for d in deps],
        "layer": [d[1] for d in deps], "provider": [d[2] for d in deps], "evidence": ["asn"] * len(deps),
        "private": [False] * len(deps)})
    names = sorted({d[2] for d in deps})
    orgs = orgs or {}
    db.append(con, "providers", {
        "snapshot_id": [snapshot_id] * len(names), "provider": names,
        "name": [p.upper() for p in names], "org": [orgs.get(p) for p in names],
        "kind": ["registry" if p in orgs else "asn" for p in names]})
    if store:
        aggregates.store(con, snapshot_id)


_DEPENDENCIES = """
insert into dependencies (snapshot_id, domain, layer, provider, evidence, private)
with
listed as (
    select o.snapshot_id, o.domain
    from site_outcomes as o
    where o.snapshot_id = $sid and o.status = 'NOERROR'
),
plan as (
    select * from (values ('hosting', 'h', 0.98), ('dns', 'd', 0.97), ('cdn', 'c', 0.35), ('email', 'm', 0.80))
        as t(layer, prefix, attributed)
),
draws as (   -- a site redraws its providers once every $period snapshots, at its own phase
    select l.snapshot_id, l.domain, p.layer, p.prefix, p.attributed, k.k,
           ($sid + hash(concat_ws(':', $seed, l.domain)) % $period) // $period as epoch
    from listed as l
    cross join plan as p
    cross join (select unnest([1, 2, 3]) as k) as k
),
uniform as (
    select *,
        -- one string per draw: hash() of several arguments mixes them too weakly for this
        hash(concat_ws(':', $seed, domain, layer, epoch, 'a'))::double / 18446744073709551616.0 as u_attributed,
        hash(concat_ws(':', $seed, domain, layer, epoch, 'n'))::double / 18446744073709551616.0 as u_count,
        hash(concat_ws(':', $seed, domain, layer, epoch, k))::double / 18446744073709551616.0   as u_provider
    from draws
)
select snapshot_id, domain, layer,
       prefix || cast(floor(pow($providers, u_provider * u_provider)) as integer), 'asn', false
from uniform
where u_attributed < attributed
  and k <= case when u_count < 0.85 then 1 when u_count < 0.97 then 2 else 3 end
"""


def generate(
    con: duckdb.DuckDBPyConnection, *, snapshots: int, sites: int, seed: int = 1, providers: int = 3000,
    list_name: str = "tranco", period: int = 20, first_id: int = 1, store: bool = True,
) -> None:
    """Write ``snapshots`` complete weekly snapshots of ``sites`` sites each (see the module doc).

    :param providers: providers per layer (the long tail's length).
    :param store: store each snapshot's metric weights, as a crawl's attribution does.
    """
    for sid in range(first_id, first_id + snapshots):
        started = datetime(2026, 1, 1) + timedelta(days=7 * (sid - first_id))
        con.execute(
            "insert into snapshots (snapshot_id, list_name, list_date, top_n, sites, tool_version, started_at,"
            " finished_at, status) values (?, ?, ?, ?, ?, 'gen', ?, ?, 'complete')",
            [sid, list_name, started.date(), sites, sites, started, started + timedelta(hours=2)])
        con.execute(
            "insert into list_entries (snapshot_id, rank, domain)"
            " select $sid, i, case when hash(concat_ws(':', $seed, $sid, i)) % 100 = 0 then 'n' || $sid || '-' || i"
            "  else 's' || i end || '.example' from range(1, $n + 1) as t(i)",
            {"sid": sid, "seed": seed, "n": sites})
        con.execute(
            "insert into site_outcomes (snapshot_id, domain, status)"
            " select snapshot_id, domain,"
            "  case when hash(concat_ws(':', $seed, domain, 'o')) % 40 = 0 then 'NXDOMAIN' else 'NOERROR' end"
            " from list_entries where snapshot_id = $sid",
            {"sid": sid, "seed": seed})
        con.execute(_DEPENDENCIES, {"sid": sid, "seed": seed, "period": period, "providers": providers})
        con.execute(
            "insert into providers (snapshot_id, provider, name, org, kind)"
            " select $sid, provider, upper(provider),"
            "  case when try_cast(substr(provider, 2) as integer) <= 30"
            "   then 'org' || (try_cast(substr(provider, 2) as integer) % 10) end, 'asn'"
            " from (select distinct provider from dependencies where snapshot_id = $sid)",
            {"sid": sid})
        if store:
            aggregates.store(con, sid)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Write generated snapshots into a DuckDB file.")
    ap.add_argument("out", type=Path)
    ap.add_argument("--snapshots", type=int, default=20)
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--providers", type=int, default=3000, help="providers per layer (the long tail)")
    ap.add_argument("--no-store", dest="store", action="store_false",
                    help="do not store the metric weights (as a database attributed before migration 0008)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    con = db.connect(args.out)
    try:
        start = int(con.execute("select coalesce(max(snapshot_id), 0) + 1 from snapshots").fetchall()[0][0])
        generate(con, snapshots=args.snapshots, sites=args.sites, seed=args.seed, providers=args.providers,
                 first_id=start, store=args.store)
        deps: Any = con.execute("select count(*) from dependencies").fetchall()[0][0]
    finally:
        con.close()
    print(f"{args.out}: {args.snapshots} snapshots x {args.sites} sites, {deps} dependency rows "
          f"in {time.perf_counter() - t0:.1f}s" + ("" if args.store else " (no metric weights stored)"))


if __name__ == "__main__":
    main()
