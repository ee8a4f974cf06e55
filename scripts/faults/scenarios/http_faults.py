"""HTTP faults: a lab crawl of a hostile web world (:mod:`scripts.faults.web_world`).

One site per fault, a healthy control, all crawled once with HTTP under the socket audit hook
(``tests.netaudit``) with a small ``--max-body`` and ``--http-timeout``. Expected: a huge or
endless body is cut at ``--max-body`` (the server could send only what the socket buffers
took; memory stays bounded), a drip ends in TIMEOUT at the deadline, a redirect loop in
TOO_MANY_REDIRECTS after 10 redirects, a redirect to the metadata address, to the server's own
loopback port or to an intranet name is BLOCKED and never reaches the server, an invalid
certificate is TLS_INVALID (kept with ``verified`` false; no request sent over it) and the http
fallback is tried, garbage is HTTP_ERROR, a reset mid-headers a failed hop, malformed HTML still
yields its resources, and hostile header values are stored as data and leave every output
inert. Every site ends with exactly one DNS and one page outcome, and no socket leaves loopback.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from scripts.faults.fault_pki import CertKind
from scripts.faults.harness import Cli, Context, Row, finish, off_loopback, peak_rss_mb, query, scenario
from scripts.faults.web_faults import (
    BOMB_BYTES,
    HOSTILE_HEADER_VALUES,
    HUGE_BYTES,
    IDN_TARGET,
    INTRANET,
    LOOPBACK,
    MANY_HOSTS,
    METADATA,
    SOUP_ABSENT,
    SOUP_HOSTS,
    Behaviour,
    gzip_bomb,
)
from scripts.faults.web_world import HostileWorld, hostile_world

MAX_BODY = 256 * 1024
HTTP_TIMEOUT = 2.0
#: body bytes the client may read past ``--max-body`` (its last read) and the server may get
#: into socket buffers before the client hangs up
READ_SLACK = 64 * 1024
SENT_BOUND = 16 * 1024 * 1024
#: a crawl of this world peaks at 200-220 MB (Scrapy, DuckDB, lxml) with or without its big
#: bodies; one that read the 50 MB body whole (and copied it once) or inflated the gzip bomb
#: would pass this
MEMORY_BOUND_MB = 280.0


def crawl_args(world: HostileWorld, db: Path) -> list[str]:
    return ["crawl", "--lab", "--lab-dir", str(world.state_dir), "--db", str(db), "--no-progress", "--no-summary",
            "--no-rdap", "--timeout", "1", "--retries", "1", "--http-timeout", str(HTTP_TIMEOUT),
            "--max-body", str(MAX_BODY)]


class Crawled:
    """The crawl's database, read once: outcomes, hops, certificates, per site."""

    def __init__(self, db: Path) -> None:
        con = duckdb.connect(str(db), read_only=True)
        try:
            self.outcomes = _by_domain(con, "select * from http_outcomes order by domain")
            self.hops = _by_domain(con, "select * from http_hops order by domain, hop")
            self.certs = _by_domain(con, "select * from tls_certificates order by domain, hop")
            self.dns = _by_domain(con, "select * from site_outcomes order by domain")
            self.resources = _by_domain(con, "select * from page_resources order by domain, host")
            self.headers = _by_domain(con, "select * from http_headers order by domain, hop, position")
            self.host_answers = {r[0] for r in con.execute("select distinct host from host_answers").fetchall()}
            self.snapshots = con.execute("select count(*) from snapshots").fetchone()[0]  # type: ignore[index]
        finally:
            con.close()

    def outcome(self, domain: str) -> dict[str, Any]:
        found = self.outcomes.get(domain, [])
        return found[0] if found else {}

    def lost(self, domain: str) -> int:
        """Outcomes missing or doubled for a site (DNS and page)."""
        return abs(len(self.outcomes.get(domain, [])) - 1) + abs(len(self.dns.get(domain, [])) - 1)

    def hop_statuses(self, domain: str) -> list[str]:
        return [h["status"] for h in self.hops.get(domain, [])]


def _by_domain(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, list[dict[str, Any]]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description or []]
    out: dict[str, list[dict[str, Any]]] = {}
    for row in cur.fetchall():
        item = dict(zip(cols, row, strict=True))
        out.setdefault(item["domain"], []).append(item)
    return out


@scenario("hostile web server", family="http")
def http_faults(ctx: Context) -> list[Row]:
    """Crawl the hostile world once; one row per fault, then the outputs and the socket audit."""
    # imported here, not above: importing the output module registers its scenario, and the
    # table's order is that of MODULES
    from scripts.faults.scenarios.output import HOSTILE

    folder = ctx.path("http")
    db, log = folder / "hostile.duckdb", folder / "sockets.log"
    with hostile_world(folder / "world", as_names=HOSTILE) as world:
        argv = crawl_args(world, db)
        t0 = time.perf_counter()
        proc = ctx.start_audited(log, *argv)
        peak = peak_rss_mb(proc)
        run = finish(proc, argv, t0, timeout=300)
        mb = peak()
        if run.returncode != 0 or not db.is_file():
            return [Row("http: crawl of the hostile world", len(world.sites), run.describe(),
                        crashes=int(run.crashed), ok=False)]
        got = Crawled(db)
        rows = fault_rows(world, got, int(run.crashed))
    rows.append(_memory_row(world, mb, int(run.crashed)))
    rows += output_rows(ctx, db, got)
    logged, off = off_loopback(log)
    rows.append(Row("http: connections off loopback", logged, f"{off} of {logged} socket destinations and name"
                    " lookups off loopback", crashes=int(run.crashed), ok=logged > 0 and off == 0))
    lost = sum(got.lost(h.name) for h in world.sites)
    statuses = sorted({o["status"] for o in (got.outcome(h.name) for h in world.sites) if o})
    rows.append(Row("http: every site one DNS and one page outcome", len(world.sites),
                    f"{run.describe()} in {run.seconds:.1f} s; {len(got.outcomes)}/{len(world.sites)} sites with a"
                    f" page outcome ({', '.join(statuses)})", rows_lost=lost, crashes=int(run.crashed),
                    ok=run.returncode == 0))
    return rows


Check = Callable[[HostileWorld, Crawled, str], tuple[bool, str]]


def fault_rows(world: HostileWorld, got: Crawled, crashes: int) -> list[Row]:
    """One row per fault of the world (the site's stored outcome checked against the fault)."""
    cases: list[tuple[str, str, Check]] = [
        ("http: healthy control site", world.site(Behaviour.OK, CertKind.VALID).name, _control),
        ("http: huge body (50 MB)", world.site(Behaviour.HUGE).name, _truncated),
        ("http: endless chunked body", world.site(Behaviour.ENDLESS).name, _truncated),
        ("http: slow drip (1 byte / 0.5 s)", world.site(Behaviour.DRIP).name, _drip),
        ("http: redirect loop A -> B -> A", world.site(Behaviour.LOOP).name, _loop),
        ("http: redirect to 169.254.169.254", world.site(Behaviour.TO_METADATA).name, _blocked(METADATA)),
        ("http: redirect to the server's own loopback port", world.site(Behaviour.TO_SELF).name,
         _blocked(LOOPBACK)),
        ("http: redirect to a name at 10.0.0.5", world.site(Behaviour.TO_INTRANET).name,
         _blocked(INTRANET, "intranet.")),
        ("http: redirect to [::ffff:169.254.169.254]", world.site(Behaviour.TO_MAPPED).name,
         _blocked(f"::ffff:{METADATA}", "::ffff:")),
        ("http: redirect to http://2852039166/", world.site(Behaviour.TO_DECIMAL).name, _decimal),
        ("http: site at 10.0.0.5", "fault-private-site.com", _blocked(INTRANET, first=True)),
        ("http: redirect to a raw UTF-8 Location", world.site(Behaviour.TO_IDN).name, _idn),
        ("http: self-signed certificate", world.site(cert=CertKind.SELF_SIGNED).name, _invalid_cert),
        ("http: certificate of an unknown CA", world.site(cert=CertKind.UNKNOWN_CA).name, _invalid_cert),
        ("http: expired certificate", world.site(cert=CertKind.EXPIRED).name, _invalid_cert),
        ("http: certificate for another name", world.site(cert=CertKind.WRONG_NAME).name, _invalid_cert),
        ("http: garbage instead of HTTP", world.site(Behaviour.GARBAGE).name, _garbage),
        ("http: connection reset mid-headers", world.site(Behaviour.RESET).name, _reset),
        ("http: gzip bomb (100 MB inflated)", world.site(Behaviour.GZIP_BOMB).name, _gzip_bomb),
        ("http: 320 KB response head", world.site(Behaviour.HUGE_HEAD).name, _huge_head),
        ("http: malformed HTML with resource links", world.site(Behaviour.TAG_SOUP).name, _tag_soup),
        ("http: a page naming 2,000 distinct hosts", world.site(Behaviour.MANY_HOSTS).name, _many_hosts),
        ("http: markup, quotes and SQL in header values", world.site(Behaviour.HOSTILE_HEADERS).name,
         _hostile_headers),
    ]
    rows = []
    for fault, domain, check in cases:
        ok, note = check(world, got, domain)
        injected = _injected(world, domain)
        rows.append(Row(fault, injected, note, rows_lost=got.lost(domain), crashes=crashes, ok=ok))
    return rows


def _injected(world: HostileWorld, domain: str) -> int:
    """Responses with the fault sent (or, for a certificate fault, handshakes that showed it)."""
    spec = next(h for h in world.hosts if h.name == domain)
    if spec.cert is not CertKind.VALID:
        return world.web.handshakes.count(domain)
    if spec.behaviour is Behaviour.LOOP:
        return sum(n for (host, _), n in world.web.served.items() if host in (domain, spec.partner))
    return sum(n for (host, _), n in world.web.served.items() if host == domain) or 1


def _summary(got: Crawled, domain: str) -> str:
    o = got.outcome(domain)
    return f"{o.get('status', 'no outcome')}, hops {'/'.join(got.hop_statuses(domain)) or 'none'}"


def _control(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    return o.get("status") == "OK" and o.get("http_status") == 200, _summary(got, domain)


def _truncated(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    hops = got.hops.get(domain, [])
    sent = world.web.sent[domain]
    received = o.get("body_bytes") or 0
    slow = max((h["elapsed_ms"] or 0 for h in hops), default=0)
    ok = (o.get("status") == "OK" and bool(o.get("truncated")) and MAX_BODY <= received <= MAX_BODY + READ_SLACK
          and sent <= SENT_BOUND and slow < HTTP_TIMEOUT * 1000)
    return ok, (f"{_summary(got, domain)}; truncated {o.get('truncated')}: read {received:,} B (--max-body"
                f" {MAX_BODY:,}); server got {sent / 2**20:.1f} of {HUGE_BYTES / 2**20:.0f} MB out; {slow:.0f} ms")


def _drip(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    times = [h["elapsed_ms"] or 0 for h in got.hops.get(domain, [])]
    statuses = got.hop_statuses(domain)
    limit = HTTP_TIMEOUT * 1000
    ok = (o.get("status") == "TIMEOUT" and statuses == ["TIMEOUT", "TIMEOUT"]
          and all(limit - 50 <= t <= limit + 1000 for t in times))
    return ok, f"{_summary(got, domain)} (https, http fallback) after {', '.join(f'{t:.0f}' for t in times)} ms" \
               f" (--http-timeout {HTTP_TIMEOUT:.0f} s)"


def _loop(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    hops = got.hops.get(domain, [])
    asked = _injected(world, domain)
    ok = o.get("status") == "TOO_MANY_REDIRECTS" and len(hops) == 11 and asked == 11
    return ok, (f"{o.get('status')} after {len(hops)} hops ({sum(h['http_status'] == 302 for h in hops)} x 302);"
                f" server asked {asked} times")


def _blocked(address: str, host_prefix: str = "", *, first: bool = False) -> Check:
    def check(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
        o = got.outcome(domain)
        hops = got.hops.get(domain, [])
        last = hops[-1] if hops else {}
        target = last.get("host") or ""
        contacted = world.web.asked(target) if target else []
        shaken = world.web.handshakes.count(target)
        ok = (o.get("status") == last.get("status") == "BLOCKED" and _same_ip(last.get("address"), address)
              and last.get("connected") is None and not contacted and not shaken and target.startswith(host_prefix)
              and len(hops) == (1 if first else 2))
        return ok, (f"{_summary(got, domain)}; {last.get('url')} at {last.get('address')}: connected"
                    f" {last.get('connected')}; requests for it at the server: {len(contacted)}, handshakes {shaken}")

    return check


def _same_ip(a: str | None, b: str) -> bool:
    try:
        return a is not None and ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def _decimal(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    """A host name to our DNS (NXDOMAIN here: NO_ADDRESS), never the system's inet_aton reading."""
    o = got.outcome(domain)
    hops = got.hops.get(domain, [])
    last = hops[-1] if hops else {}
    contacted = world.web.asked(last.get("host") or "")
    ok = (o.get("status") in ("NO_ADDRESS", "BLOCKED") and len(hops) == 2 and last.get("connected") is None
          and last.get("address") in (None, METADATA) and not contacted)
    return ok, (f"{_summary(got, domain)}; {last.get('url')} at {last.get('address')}: connected"
                f" {last.get('connected')}; requests for it at the server: {len(contacted)}")


def _idn(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    """The redirect followed to the host the server named: ``bücher`` in UTF-8, as browsers and
    ``requests`` read a Location header (not its bytes taken as Latin-1 and encoded again)."""
    o = got.outcome(domain)
    hops = got.hops.get(domain, [])
    last = hops[-1] if hops else {}
    ok = o.get("status") == "OK" and last.get("host") == IDN_TARGET and len(hops) == 2
    return ok, f"{_summary(got, domain)}; followed to {last.get('url')} (expected https://{IDN_TARGET}/stra%C3%9Fe)"


def _many_hosts(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    """At most MAX_HOSTS_PER_PAGE hosts kept and looked up once each; the DNS cost shown."""
    from crawler.pages import MAX_HOSTS_PER_PAGE

    o = got.outcome(domain)
    found = {r["host"] for r in got.resources.get(domain, [])}
    looked_up = found & got.host_answers
    asked = sum(n for (name, _), n in world.dns.queries.items() if ".fault-many-" in name)
    bound = min(MANY_HOSTS, MAX_HOSTS_PER_PAGE)
    ok = o.get("status") == "OK" and len(found) == bound and looked_up == found and asked <= 4 * bound
    return ok, (f"{_summary(got, domain)}; {MANY_HOSTS:,} hosts named, {len(found):,} kept (bound"
                f" {MAX_HOSTS_PER_PAGE}), {len(looked_up):,} looked up: {asked:,} DNS questions")


def _gzip_bomb(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    wire = len(gzip_bomb())
    ok = o.get("status") == "OK" and o.get("body_bytes") == wire and not o.get("truncated")
    return ok, (f"{_summary(got, domain)}; {o.get('body_bytes') or 0:,} B kept as sent ({wire:,} B gzip of"
                f" {BOMB_BYTES / 2**20:.0f} MB): not inflated")


def _huge_head(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    ok = o.get("status") == "HTTP_ERROR" and got.hop_statuses(domain) == ["HTTP_ERROR", "HTTP_ERROR"]
    return ok, f"{_summary(got, domain)}: {(o.get('error') or '')[:80]}"


def _invalid_cert(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    hops = got.hops.get(domain, [])
    certs = got.certs.get(domain, [])
    kept = [c for c in certs if c["hop"] == 0 and not c["verified"] and c["verify_error"]]
    over_tls = [r for r in world.web.asked(domain) if r.scheme == "https"]
    ok = (o.get("status") == "OK" and got.hop_statuses(domain) == ["TLS_INVALID", "OK"]
          and hops[1]["url"].startswith("http://") and len(kept) == 1 and not over_tls)
    error = kept[0]["verify_error"] if kept else "none"
    return ok, (f"{_summary(got, domain)} (http fallback); certificate kept verified=false: {error}; requests"
                f" sent over it: {len(over_tls)}")


def _garbage(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    ok = o.get("status") == "HTTP_ERROR" and got.hop_statuses(domain) == ["HTTP_ERROR", "HTTP_ERROR"]
    return ok, f"{_summary(got, domain)}: {o.get('error')}"


def _reset(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    statuses = got.hop_statuses(domain)
    failed = {"CONNECT_ERROR", "HTTP_ERROR"}
    ok = (o.get("status") in failed and len(statuses) == 2 and set(statuses) <= failed
          and all(h["http_status"] is None for h in got.hops.get(domain, [])))
    return ok, f"{_summary(got, domain)}: {(o.get('error') or '')[:80]}"


def _tag_soup(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    o = got.outcome(domain)
    found = {r["host"] for r in got.resources.get(domain, [])}
    third = {r["host"] for r in got.resources.get(domain, []) if r["third_party"]}
    looked_up = third & got.host_answers
    ok = (o.get("status") == "OK" and found >= SOUP_HOSTS and not found & SOUP_ABSENT and looked_up == third)
    return ok, (f"{_summary(got, domain)}; {len(SOUP_HOSTS & found)}/{len(SOUP_HOSTS)} resource hosts found,"
                f" {len(found & SOUP_ABSENT)} false ones; {len(looked_up)}/{len(third)} third-party hosts looked up")


def _hostile_headers(world: HostileWorld, got: Crawled, domain: str) -> tuple[bool, str]:
    stored = {(h["name"], h["value"]) for h in got.headers.get(domain, [])}
    exact = sum((k, v) in stored for k, v in HOSTILE_HEADER_VALUES.items())
    ok = got.outcome(domain).get("status") == "OK" and exact == len(HOSTILE_HEADER_VALUES) and got.snapshots == 1
    return ok, (f"{_summary(got, domain)}; {exact}/{len(HOSTILE_HEADER_VALUES)} values stored exactly;"
                f" snapshots {got.snapshots} (no SQL ran)")


def _memory_row(world: HostileWorld, mb: float, crashes: int) -> Row:
    sent = sum(world.web.sent.values())
    return Row("http: memory while reading huge bodies", 3,
               f"crawl peak RSS {mb:.0f} MB (bound {MEMORY_BOUND_MB:.0f}); the servers got {sent / 2**20:.1f} MB"
               f" out of {HUGE_BYTES / 2**20:.0f} MB + endless; a {BOMB_BYTES / 2**20:.0f} MB gzip bomb",
               crashes=crashes,
               ok=0 < mb < MEMORY_BOUND_MB)


def output_rows(ctx: Context, db: Path, got: Crawled) -> list[Row]:
    """The hostile header values through ``query`` (as data) and ``report`` (escaped: AS names
    carry the same markup, since header values never reach a report)."""
    from scripts.faults.scenarios.output import table_check

    sql = "select name, value from http_headers where name like 'x-%' or name in ('server', 'set-cookie')"
    commands: list[tuple[str, tuple[str | Path, ...], Callable[[str], tuple[bool, str]]]] = [
        ("report html", ("report", "--db", db, "--format", "html", "--top", "50"), _report_check),
        ("report md", ("report", "--db", db, "--format", "md", "--top", "50"), _report_check),
        ("query json of the headers", ("query", sql, "--db", db, "--format", "json"), _headers_json),
        ("query csv of the headers", ("query", sql, "--db", db, "--format", "csv"), _headers_csv),
        ("query table of the headers", ("query", sql, "--db", db), table_check),
    ]
    runs: list[Cli] = ctx.cli_many([args for _, args, _ in commands], parallel=2, timeout=120)
    rows = []
    for (what, _, check), run in zip(commands, runs, strict=True):
        ok, note = check(run.stdout) if run.returncode == 0 else (False, run.describe())
        rows.append(Row(f"http: hostile text, {what}", len(HOSTILE_HEADER_VALUES), note,
                        crashes=int(run.crashed), ok=ok))
    after = query(db, "select count(*) from snapshots")[0][0]
    if after != got.snapshots:
        rows.append(Row("http: snapshots after the outputs", 1, f"{got.snapshots} -> {after}", ok=False))
    return rows


def _report_check(text: str) -> tuple[bool, str]:
    """No raw markup, the AS names escaped, and none of the header values (which no report shows) raw."""
    from scripts.faults.scenarios.output import markup_check

    ok, note = markup_check(text)
    raw = [v for v in HOSTILE_HEADER_VALUES.values() if v in text and "<" in v]
    return ok and not raw, f"{note}; header values raw: {len(raw)}"


def _headers_json(text: str) -> tuple[bool, str]:
    try:  # one object a line (query), or one document
        docs = [json.loads(line) for line in text.splitlines() if line.strip()] if "\n{" in text else [
            json.loads(text)]
    except ValueError as exc:
        return False, f"not JSON: {exc}"
    values = set(_strings(docs))
    exact = sum(v in values for v in HOSTILE_HEADER_VALUES.values())
    return exact == len(HOSTILE_HEADER_VALUES), f"parses; {exact}/{len(HOSTILE_HEADER_VALUES)} values exact"


def _headers_csv(text: str) -> tuple[bool, str]:
    import csv
    import io

    try:
        cells = {c for row in csv.reader(io.StringIO(text)) for c in row}
    except csv.Error as exc:
        return False, f"not CSV: {exc}"
    exact = sum(v in cells for v in HOSTILE_HEADER_VALUES.values())
    return exact == len(HOSTILE_HEADER_VALUES), f"parses; {exact}/{len(HOSTILE_HEADER_VALUES)} values exact"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
