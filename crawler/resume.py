"""Resuming an interrupted crawl: what its snapshot already holds, and what is left to do.

The database is the record of what is done: a site is measured once its ``site_outcomes`` row
is stored (and, with HTTP, its ``http_outcomes`` row), and every batch of rows is written in
one transaction, so a crawl killed at any point leaves whole sites or nothing. A resumed crawl
asks DNS for the sites without a DNS outcome, fetches the home pages of the sites without a
page outcome (from their stored DNS answers), looks up the resource hosts not yet looked up,
and drops any result it already holds — no site lost, none stored twice.

Scrapy's own job state (``JOBDIR``: its request queue) is kept beside the database for a crawl
that stopped cleanly (Ctrl-C); after a kill it cannot be trusted and is discarded.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from chokepoints import db
from chokepoints.errors import UserError

RESUMABLE = ("running", "interrupted")
#: tables whose rows belong to one site's page outcome (cleared for sites without one)
PAGE_TABLES = ("http_hops", "http_headers", "tls_certificates", "page_resources")
#: tables the stages after the crawl fill again on every run (``metric_weights``: the sums
#: attribution stores, stale as soon as the resumed crawl adds outcomes; until attribution
#: stores them again, report and trend compute them from the rows)
DERIVED_TABLES = ("ip_origins", "as_names", "metric_weights")


@dataclass(slots=True)
class ResumeState:
    """What a resumed snapshot holds and what is left."""

    snapshot_id: int
    status: str
    domains: list[str]
    dns_todo: list[str]
    dns_done: set[str]
    pages_done: set[str] = field(default_factory=set)
    #: (domain, host, address) of sites with DNS stored but no page outcome; host None: no address
    page_targets: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    hosts_done: set[str] = field(default_factory=set)
    hosts_todo: list[str] = field(default_factory=list)
    #: name-server and mail hosts already looked up in this snapshot (not asked again)
    ns_hosts_done: list[str] = field(default_factory=list)


def find_resumable(con: duckdb.DuckDBPyConnection, snapshot_id: int | None = None) -> tuple[int, str]:
    """``(snapshot_id, status)`` of the snapshot to resume: the given one, or the newest one
    still ``running`` (killed) or ``interrupted``. :class:`UserError` when there is none."""
    if snapshot_id is not None:
        row = con.execute("select snapshot_id, status from snapshots where snapshot_id = ?",
                          [snapshot_id]).fetchone()
        if row is None:
            raise UserError(f"no snapshot {snapshot_id} to resume")
        if row[1] not in RESUMABLE:
            raise UserError(f"snapshot {snapshot_id} is {row[1]}: only a running (killed) or interrupted "
                            "snapshot can be resumed")
        return int(row[0]), str(row[1])
    row = con.execute("select snapshot_id, status from snapshots where status in ('running', 'interrupted') "
                      "order by snapshot_id desc limit 1").fetchone()
    if row is None:
        raise UserError("nothing to resume: no snapshot is running or interrupted")
    return int(row[0]), str(row[1])


def clear_partial(con: duckdb.DuckDBPyConnection, sid: int) -> None:
    """Delete rows that no outcome accounts for (none exist when every write was whole; this
    makes sure), and the derived tables the later stages fill again."""
    con.execute("begin transaction")
    try:
        con.execute("delete from dns_answers where snapshot_id = $sid and domain not in "
                    "(select domain from site_outcomes where snapshot_id = $sid)", {"sid": sid})
        for table in PAGE_TABLES:
            con.execute(f"delete from {table} where snapshot_id = $sid and domain not in "
                        "(select domain from http_outcomes where snapshot_id = $sid)", {"sid": sid})
        for table in DERIVED_TABLES:
            con.execute(f"delete from {table} where snapshot_id = ?", [sid])
        con.execute("commit")
    except BaseException:
        db.rollback(con)
        raise


def _column(con: duckdb.DuckDBPyConnection, sql: str, sid: int) -> list[str]:
    return [r[0] for r in con.execute(sql, {"sid": sid}).fetchall()]


def page_targets(con: duckdb.DuckDBPyConnection, sid: int, domains: list[str],
                 www: str = "auto") -> list[tuple[str, str | None, str | None]]:
    """The home-page host and address of each of ``domains`` from its stored DNS answers, by
    the rule of :func:`crawler.pages.home_target` (A before AAAA, in answer order)."""
    if not domains:
        return []
    names = {"auto": ("apex", "www"), "apex": ("apex",), "www": ("www",)}[www]
    con.register("_resume_domains", pa.table({"domain": pa.array(domains, pa.string())}))
    try:
        rows = con.execute(
            "select a.domain, a.qname, a.rtype, a.value from dns_answers a "
            "join _resume_domains d using (domain) "
            "where a.snapshot_id = ? and a.rtype = a.qtype and a.rtype in ('A', 'AAAA') "
            "and (a.qname = a.domain or a.qname = 'www.' || a.domain) "
            "order by a.domain, a.rtype, a.position", [sid]).fetchall()
    finally:
        con.unregister("_resume_domains")
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for domain, qname, _rtype, value in rows:
        kind = "apex" if qname == domain else "www"
        found.setdefault(domain, {}).setdefault(kind, (qname, value))
    out: list[tuple[str, str | None, str | None]] = []
    for domain in domains:
        hit = next((found[domain][k] for k in names if k in found.get(domain, {})), None)
        out.append((domain, hit[0], hit[1]) if hit else (domain, None, None))
    return out


def load(con: duckdb.DuckDBPyConnection, sid: int, status: str, *, http: bool, www: str = "auto") -> ResumeState:
    """What snapshot ``sid`` holds and what is left (after :func:`clear_partial`)."""
    clear_partial(con, sid)
    domains = _column(con, "select domain from list_entries where snapshot_id = $sid order by rank, domain", sid)
    dns_done = set(_column(con, "select domain from site_outcomes where snapshot_id = $sid", sid))
    state = ResumeState(sid, status, domains, [d for d in domains if d not in dns_done], dns_done)
    state.ns_hosts_done = _column(
        con, "select distinct qname from dns_answers where snapshot_id = $sid and qtype in ('A', 'AAAA') "
             "and qname <> domain and qname <> 'www.' || domain", sid)
    if http:
        state.pages_done = set(_column(con, "select domain from http_outcomes where snapshot_id = $sid", sid))
        pending = [d for d in domains if d in dns_done and d not in state.pages_done]
        state.page_targets = page_targets(con, sid, pending, www)
        state.hosts_done = set(_column(con, "select distinct host from host_answers where snapshot_id = $sid",
                                       sid))
        state.hosts_todo = [h for h in _column(
            con, "select distinct host from page_resources where snapshot_id = $sid and third_party order by 1",
            sid) if h not in state.hosts_done]
    return state


def job_dir(db_path: Path, sid: int) -> Path:
    """Scrapy's JOBDIR for snapshot ``sid`` of the database at ``db_path``."""
    return db_path.with_name(db_path.name + ".jobs") / str(sid)


def discard_job(path: Path) -> None:
    """Remove a job directory (after a complete crawl, or a kill that left it untrustworthy)."""
    shutil.rmtree(path, ignore_errors=True)
    parent = path.parent
    if parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
