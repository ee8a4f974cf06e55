"""DNS faults: the lab crawled through :mod:`scripts.faults.dns_proxy`, every misbehaviour mixed.

A clean crawl through the proxy (no fault) is the baseline; then a crawl where ``dns_rate`` of
the questions draw a fault. Each faulted question is checked against its row in the database
(the status a correct engine stores, its transport and attempts, no spoofed value), every
question the proxy saw must have its row, every site its one outcome, and the sites that met no
fault must not be slowed by the ones that did.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from scripts.faults.dns_proxy import (
    EXPECTED,
    POISON_V4,
    POISON_V6,
    RANDOM_KINDS,
    FaultKind,
    FaultPlan,
    expected_status,
    running_proxy,
)
from scripts.faults.harness import Cli, Context, Row, scenario, snapshot_row

_FAULTED = pa.schema([("qname", pa.string()), ("qtype", pa.string()), ("kind", pa.string()),
                      ("udp", pa.int32()), ("tcp", pa.int32()), ("upstream", pa.string())])
_SEEN = pa.schema([("qname", pa.string()), ("qtype", pa.string())])


def crawl_through_proxy(ctx: Context, db: Path, plan: FaultPlan,
                        extra: tuple[str, ...] = ()) -> tuple[Cli, set[tuple[str, str]], list[tuple[Any, ...]]]:
    """Crawl the lab through a fault proxy; the run, the questions seen and those faulted."""
    with running_proxy(ctx.resolver(), plan) as proxy:
        run = ctx.cli(*ctx.crawl_args(db, resolver=proxy.address, extra=extra))
        seen = set(proxy.queries)
        faulted = proxy.faulted()
    return run, seen, faulted


def _answers_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Every stored question row of the snapshot: the sites' and (if the table exists) the page hosts'."""
    tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    sql = ("select domain, qname, qtype, status, transport, attempts, rtype, value from dns_answers"
           " where snapshot_id = $sid")
    if "host_answers" in tables:
        sql += (" union all select host, qname, qtype, status, transport, attempts, rtype, value"
                " from host_answers where snapshot_id = $sid")
    return sql


def per_question(db: Path, sid: int, faulted: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """One dict per faulted question: what the proxy did and what the database holds for it."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.register("faulted", pa.Table.from_pylist(
            [dict(zip(_FAULTED.names, f, strict=True)) for f in faulted], schema=_FAULTED))
        cur = con.execute(
            f"with answers as ({_answers_sql(con)})"
            " select f.*, count(a.qname) as rows, count(distinct a.domain) as asked,"
            " list(distinct a.status) as statuses, max(a.attempts) as attempts,"
            " list(distinct a.transport) as transports,"
            " count(*) filter (where a.rtype = 'CNAME') as cnames,"
            " count(*) filter (where a.value in ($v4, $v6)) as poisoned"
            " from faulted f left join answers a on a.qname = f.qname and a.qtype = f.qtype"
            " group by all", {"sid": sid, "v4": POISON_V4, "v6": POISON_V6})
        cols = [d[0] for d in cur.description or []]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def _matches(q: dict[str, Any], retries: int, chain: int) -> bool:
    kind = FaultKind(q["kind"])
    exp = EXPECTED[kind]
    want = expected_status(kind, q["upstream"])
    if q["rows"] == 0 or q["poisoned"] or q["statuses"] != [want]:
        return False
    if exp.transport is not None and q["transports"] != [exp.transport]:
        return False
    if (q["attempts"] or 0) < exp.min_attempts:
        return False
    if kind is FaultKind.DROP and q["attempts"] != retries + 1:
        return False
    return not (kind is FaultKind.CNAME_CHAIN and want == "NOERROR" and q["cnames"] < chain)


def check_questions(db: Path, sid: int, faulted: list[tuple[Any, ...]], *, retries: int,
                    chain: int = 30, crashes: int = 0) -> list[Row]:
    """One row per fault kind: questions faulted, how many were stored as a correct engine would."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in per_question(db, sid, faulted):
        by_kind[q["kind"]].append(q)
    rows = []
    for kind in FaultKind:
        found = by_kind.get(kind.value, [])
        if not found:
            continue
        good = sum(1 for q in found if _matches(q, retries, chain))
        lost = sum(1 for q in found if q["rows"] == 0)
        poisoned = sum(q["poisoned"] for q in found)
        statuses = sorted({s for q in found for s in q["statuses"] if s})
        outcome = f"{good}/{len(found)} stored as expected ({', '.join(statuses) or 'no row'})"
        if kind is FaultKind.DROP:  # a TIMEOUT is one row per query: rows count the queries
            worst = max(q["udp"] / max(1, q["rows"]) for q in found)
            outcome += f"; at most {worst:.0f} UDP attempts per query (limit {retries + 1})"
            good -= sum(1 for q in found if q["udp"] > (retries + 1) * max(1, q["rows"]))
        elif kind in (FaultKind.SPOOF_ID, FaultKind.SPOOF_NAME):
            outcome += f"; spoofed values stored: {poisoned}"
        elif kind is FaultKind.CNAME_CHAIN:
            outcome += f"; longest chain stored {max(q['cnames'] for q in found)} CNAMEs"
        elif kind in (FaultKind.TRUNCATE, FaultKind.OVERSIZED, FaultKind.TRUNCATE_TCP_FAIL):
            outcome += f"; over {'/'.join(sorted({t for q in found for t in q['transports'] if t}))}"
        rows.append(Row(f"dns: {kind.value}", len(found), outcome, rows_lost=lost, crashes=crashes,
                        ok=good == len(found)))
    return rows


def accounting(db: Path, sid: int, seen: set[tuple[str, str]]) -> dict[str, Any]:
    """Sites listed vs. outcomes stored, and questions the proxy saw with no row stored."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.register("seen", pa.Table.from_pylist([{"qname": q, "qtype": t} for q, t in seen], schema=_SEEN))
        entries, outcomes, distinct = con.execute(
            "select (select count(*) from list_entries where snapshot_id = $sid),"
            " (select count(*) from site_outcomes where snapshot_id = $sid),"
            " (select count(distinct domain) from site_outcomes where snapshot_id = $sid)", {"sid": sid}).fetchone() \
            or (0, 0, 0)
        (unstored,) = con.execute(
            f"with answers as ({_answers_sql(con)}) select count(*) from seen s where not exists"
            " (select 1 from answers a where a.qname = s.qname and a.qtype = s.qtype)", {"sid": sid}).fetchone() \
            or (0,)
        statuses = dict(con.execute("select status, count(*) from site_outcomes where snapshot_id = ?"
                                    " group by 1 order by 2 desc", [sid]).fetchall())
    finally:
        con.close()
    return {"entries": entries, "outcomes": outcomes, "distinct": distinct, "unstored": unstored,
            "statuses": statuses}


def healthy_ms(db: Path, sid: int, faulted_names: set[str]) -> list[float]:
    """``elapsed_ms`` of the sites that met no fault: none of their own questions, and none of
    their name servers' and mail hosts' (asked once per crawl, all sites that use them wait)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.register("bad", pa.table({"qname": sorted(faulted_names)}, schema=pa.schema([("qname", pa.string())])))
        rows = con.execute(
            "with names as ("
            " select domain, qname as name from dns_answers where snapshot_id = $sid"
            " union all select domain, value from dns_answers where snapshot_id = $sid and rtype = 'NS'"
            " union all select domain, split_part(value, ' ', 2) from dns_answers"
            "  where snapshot_id = $sid and rtype = 'MX')"
            " select elapsed_ms from site_outcomes o where snapshot_id = $sid and not exists"
            " (select 1 from names n join bad b on b.qname = n.name where n.domain = o.domain)",
            {"sid": sid}).fetchall()
    finally:
        con.close()
    return [float(r[0]) for r in rows]


def unfaulted_changes(db: Path, clean_db: Path, faulted: list[tuple[Any, ...]]) -> tuple[int, int, list[str]]:
    """Questions that met no fault whose status differs from the clean crawl's: how many were
    compared, how many differ, and a few examples (a fault must not leak to other questions)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute(f"attach '{clean_db}' as clean (read_only)")
        con.register("bad", pa.table({"qname": [f[0] for f in faulted], "qtype": [f[1] for f in faulted]},
                                     schema=_SEEN))
        rows = con.execute(
            "with a as (select distinct qname, qtype, status from dns_answers),"
            " b as (select distinct qname, qtype, status from clean.dns_answers),"
            " mine as (select * from a anti join bad using (qname, qtype))"
            " select m.qname, m.qtype, m.status, b.status from mine m join b using (qname, qtype)").fetchall()
    finally:
        con.close()
    differ = [f"{q} {t}: {s} (clean {c})" for q, t, s, c in rows if s != c]
    return len(rows), len(differ), differ[:3]


def _p(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] if len(values) > 1 else values[0]


@scenario("dns faults", family="dns", needs=("lab",))
def dns_faults(ctx: Context) -> list[Row]:
    folder = ctx.path("dns")
    base_db, faulty_db = folder / "clean.duckdb", folder / "faulty.duckdb"
    base, _, _ = crawl_through_proxy(ctx, base_db, FaultPlan())
    plan = FaultPlan(rate=ctx.dns_rate, kinds=RANDOM_KINDS, seed=ctx.seed, slow_delay=ctx.timeout * 0.2,
                     late_delay=ctx.timeout * 1.5)
    run, seen, faulted = crawl_through_proxy(ctx, faulty_db, plan)
    crashes = int(base.crashed) + int(run.crashed)
    if run.returncode != 0 or base.returncode != 0:
        return [Row("dns: crawl through the fault proxy", len(faulted),
                    f"clean {base.describe()}; faulty {run.describe()}", crashes=crashes, ok=False)]
    sid = int(snapshot_row(faulty_db)["snapshot_id"])
    rows = check_questions(faulty_db, sid, faulted, retries=ctx.retries, chain=plan.chain_length, crashes=0)
    acc = accounting(faulty_db, sid, seen)
    snap = snapshot_row(faulty_db)
    stats = snap.get("stats") or {}
    clean_snap = snapshot_row(base_db)
    healthy = healthy_ms(faulty_db, sid, {q for q, *_ in faulted})
    clean = healthy_ms(base_db, int(clean_snap["snapshot_id"]), set())
    p50, p50_clean = _p(healthy, 0.5), _p(clean, 0.5)
    p90, p90_clean = _p(healthy, 0.9), _p(clean, 0.9)
    rate = acc["entries"] / max(stats.get("dns_seconds", 0.0), 1e-9)
    clean_rate = acc["entries"] / max((clean_snap.get("stats") or {}).get("dns_seconds", 0.0), 1e-9)
    # Healthy sites share the engine with faulted ones: allow the noise of a busy machine,
    # never the wait of a timeout (the faulted sites' own elapsed time).
    held = p50 <= max(3 * p50_clean, p50_clean + 0.5 * ctx.timeout * 1000)
    lost = (acc["entries"] - acc["distinct"]) + (acc["outcomes"] - acc["distinct"]) + acc["unstored"]
    statuses = ", ".join(f"{k} {v}" for k, v in acc["statuses"].items())
    rows.append(Row(
        "dns: every site and question accounted for", len(faulted),
        f"{acc['distinct']}/{acc['entries']} sites ({statuses}), {len(seen) - acc['unstored']}/{len(seen)} questions"
        f" stored; snapshot {snap['status']}; engine dropped {stats.get('dns/mismatched', '?')} forged/late replies",
        rows_lost=lost, crashes=crashes, ok=snap["status"] == "complete"))
    compared, differ, examples = unfaulted_changes(faulty_db, base_db, faulted)
    rows.append(Row("dns: questions without a fault", compared,
                    f"{compared - differ}/{compared} same status as the clean crawl"
                    + (f"; e.g. {'; '.join(examples)}" if examples else ""), ok=differ == 0))
    rows.append(Row(
        "dns: rate held for healthy sites", len(healthy),
        f"healthy sites p50/p90 {p50:.0f}/{p90:.0f} ms vs {p50_clean:.0f}/{p90_clean:.0f} ms without faults;"
        f" {rate:,.0f} vs {clean_rate:,.0f} sites/s overall", ok=held))
    return rows
