"""Attribution on hand-built observations, stored through the real writer into real DuckDB."""

from __future__ import annotations

from pathlib import Path

import pyasn
import pytest

from chokepoints import db
from crawler import asn, attribution, registry, snapshot
from crawler.store import BatchWriter
from tests.fakes import Q, Site, a, chain, mx, ns

IPASN = """; test
3.5.0.0/16\t16509
104.16.0.0/13\t13335
2606:4700::/32\t13335
151.101.0.0/16\t54113
198.51.100.0/24\t64500
203.0.113.0/24\t64501
"""


@pytest.fixture
def asndb(tmp_path: Path) -> asn.AsnDatabase:
    p = tmp_path / "ipasn_20260401.dat"
    p.write_text(IPASN)
    return asn.open_database(p)


def sites() -> list[Site]:
    return [
        # On AWS, DNS at Route 53, mail at Google Workspace (services apart from their networks).
        Site("shop.example", "NOERROR", (
            a("shop.example", "3.5.1.1"), a("www.shop.example", "3.5.1.2"),
            ns("shop.example", "ns-1.awsdns-01.com", "ns-2.awsdns-02.net"),
            mx("shop.example", "aspmx.l.google.com", "alt1.aspmx.l.google.com"),
            a("ns-1.awsdns-01.com", "3.5.9.9"),
        )),
        # Behind Cloudflare via a CNAME chain; DNS split over Cloudflare and a long-tail AS;
        # private mail.
        Site("news.example", "NOERROR", (
            a("news.example", "104.16.1.1"),
            chain("www.news.example", "A", ["news.example.cdn.cloudflare.net"], ["104.16.1.2"]),
            chain("www.news.example", "AAAA", ["news.example.cdn.cloudflare.net"], ["2606:4700::1"]),
            ns("news.example", "ada.ns.cloudflare.com", "ns1.smallhost.example.net"),
            a("ns1.smallhost.example.net", "198.51.100.53"),
            mx("news.example", "mail.news.example"),
        )),
        # Own name servers, Fastly CDN, no MX, www missing.
        Site("self.example", "NOERROR", (
            chain("self.example", "A", ["self.example.global.fastly.net"], ["151.101.1.1"]),
            Q("www.self.example", "A", "NXDOMAIN"),
            ns("self.example", "ns1.self.example", "ns2.self.example"),
            Q("self.example", "MX", "NODATA"),
        )),
        # Does not resolve at all.
        Site("gone.example", "NXDOMAIN", (Q("gone.example", "A", "NXDOMAIN"), Q("gone.example", "NS", "NXDOMAIN"))),
    ]


def crawl_fake(con, asndb, reg) -> int:  # type: ignore[no-untyped-def]
    sid = snapshot.create(con, list_name="file", settings={})
    w = BatchWriter(con, sid, batch_sites=2)
    for s in sites():
        w.add(s)
    w.flush()
    ips = [r[0] for r in con.execute(
        "select distinct value from dns_answers where rtype in ('A','AAAA') and snapshot_id = ?", [sid]).fetchall()]
    db.append(con, "ip_origins", asn.origins_table(asndb, sid, ips))
    attribution.attribute(con, sid, reg)
    return sid


def deps(con, sid):  # type: ignore[no-untyped-def]
    return {(d, lay, p): (ev, priv) for d, lay, p, ev, priv in con.execute(
        "select domain, layer, provider, evidence, private from dependencies where snapshot_id = ?", [sid]
    ).fetchall()}


def test_every_layer_and_rule(con, asndb) -> None:  # type: ignore[no-untyped-def]
    sid = crawl_fake(con, asndb, registry.load())
    got = deps(con, sid)
    assert got == {
        ("shop.example", "hosting", "aws"): ("asn", False),
        ("shop.example", "dns", "route53"): ("ns_suffix", False),
        ("shop.example", "email", "google-workspace"): ("mx_suffix", False),
        ("news.example", "hosting", "cloudflare"): ("asn", False),
        ("news.example", "cdn", "cloudflare"): ("cname_suffix", False),
        ("news.example", "dns", "cloudflare"): ("ns_suffix", False),
        ("news.example", "dns", "as64500"): ("ns_asn", False),
        ("news.example", "email", "news.example"): ("self", True),
        ("self.example", "hosting", "fastly"): ("asn", False),
        ("self.example", "cdn", "fastly"): ("cname_suffix", False),
        ("self.example", "dns", "self.example"): ("self", True),
    }
    names = dict(con.execute("select provider, name from providers where snapshot_id = ?", [sid]).fetchall())
    assert names["aws"] == "Amazon Web Services"
    assert names["route53"] == "Amazon Route 53"
    parents = dict(con.execute("select provider, parent from providers where snapshot_id = ?", [sid]).fetchall())
    assert parents["route53"] == "aws" and parents["google-workspace"] == "google"
    assert parents["aws"] is None
    assert names["as64500"] == "AS64500"


def test_rows_are_one_per_record_or_failed_query(con, asndb) -> None:  # type: ignore[no-untyped-def]
    sid = crawl_fake(con, asndb, registry.load())
    (n_out,) = con.execute("select count(*) from site_outcomes where snapshot_id = ?", [sid]).fetchall()[0]
    assert n_out == 4
    rows = con.execute(
        "select status, rtype, value from dns_answers where domain = 'gone.example' order by qtype").fetchall()
    assert rows == [("NXDOMAIN", None, None), ("NXDOMAIN", None, None)]
    chain_rows = con.execute(
        "select position, rtype, value from dns_answers where qname = 'www.news.example' and qtype = 'A' "
        "order by position").fetchall()
    assert chain_rows == [(0, "CNAME", "news.example.cdn.cloudflare.net"), (1, "A", "104.16.1.2")]


def test_reattribution_replaces_rows_with_the_new_registry(con, asndb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sid = crawl_fake(con, asndb, registry.load())
    before = deps(con, sid)
    # A registry that learns AS64500 is "smallhost".
    text = registry.load().path
    extra = Path(text).read_text() + (
        '\n[[provider]]\nid = "smallhost"\nname = "Small Host"\norg = "Small"\nasns = [64500]\n')
    p = tmp_path / "providers.toml"
    p.write_text(extra)
    reg2 = registry.load(p)
    attribution.attribute(con, sid, reg2)
    after = deps(con, sid)
    assert ("news.example", "dns", "smallhost") in after
    assert ("news.example", "dns", "as64500") not in after
    assert len(after) == len(before)
    (h,) = con.execute("select registry_hash from snapshots where snapshot_id = ?", [sid]).fetchall()[0]
    assert h == reg2.sha256


def test_pyasn_reads_the_written_file(asndb) -> None:  # type: ignore[no-untyped-def]
    assert asndb.lookup("3.5.1.1") == (16509, "3.5.0.0/16")
    assert asndb.lookup("192.0.2.1") == (None, None)
    assert asndb.date is not None and asndb.date.isoformat() == "2026-04-01"
    assert isinstance(asndb.db, pyasn.pyasn)


def test_own_infrastructure_is_private(con, asndb) -> None:  # type: ignore[no-untyped-def]
    from crawler.asn_names import store_names

    reg = registry.load()
    sid = crawl_fake(con, asndb, reg)
    # news.example's second name server sits in AS64500; call that AS after the site.
    store_names(con, sid, {64500: "NEWS-EXAMPLE-AS News Example Networks"}, [64500], "test")
    attribution.attribute(con, sid, reg)
    got = deps(con, sid)
    assert got[("news.example", "dns", "as64500")] == ("ns_asn", True)   # its own AS: not third-party
    assert got[("news.example", "dns", "cloudflare")] == ("ns_suffix", False)
    assert got[("shop.example", "hosting", "aws")] == ("asn", False)
    assert attribution.is_own("google.com", "google-workspace", attribution.own_domains(reg), {})
    assert not attribution.is_own("cloud.example", "as13335", {}, {13335: "CLOUDFLARENET"})
