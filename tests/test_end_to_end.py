"""The whole path on the lab: real Knot+Unbound on loopback, the real CLI, a real DuckDB file.

top list -> DNS (Scrapy + the DNS engine) -> ASN (the world's pyasn db) -> providers -> DuckDB
-> report, scored against the lab's ground truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chokepoints import db
from scripts.score_lab import score
from tests.cli import run

SITES = 600


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[dict[str, Any]]:
    from scripts.lab.testing import running_lab

    radar = shared_data / "toplists" / "cloudflare_radar" / "radar_top-1000_2026-04-27.csv.gz"
    with running_lab(tmp_path_factory.mktemp("lab"), sites=SITES, seed=7, list_path=radar) as state:
        yield state


@pytest.fixture(scope="module")
def crawled(lab: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab crawled in lab mode: its resolver, pyasn db, list, range files and RDAP server."""
    path = tmp_path_factory.mktemp("db") / "lab.duckdb"
    r = run("crawl", "--lab", "--lab-dir", lab["state_dir"], "--db", path, "--no-progress", "--timeout", "1")
    assert r.returncode == 0, r.stderr
    assert "snapshot 1:" in r.stderr
    return path


def test_every_site_has_exactly_one_outcome(crawled: Path) -> None:
    con = db.connect(crawled, read_only=True)
    try:
        (entries, outcomes, distinct) = con.execute(
            "select (select count(*) from list_entries), (select count(*) from site_outcomes),"
            " (select count(distinct domain) from site_outcomes)").fetchall()[0]
        assert entries == outcomes == distinct == SITES
        snap = db.fetch_dicts(con, "select * from snapshots")[0]
        assert snap["status"] == "complete"
        assert snap["resolver"].startswith("127.0.0.1:")
        assert snap["list_sha256"] and snap["rib_sha256"] and snap["registry_hash"]
        assert snap["tool_version"] and snap["settings"]
        statuses = dict(con.execute("select status, count(*) from site_outcomes group by 1").fetchall())
        assert statuses.get("NOERROR", 0) > SITES * 0.9
        assert statuses.get("NXDOMAIN", 0) >= 1  # the lab leaves some listed sites out of its world
        # Name servers are asked once per snapshot, however many sites share them.
        (dupes,) = con.execute(
            "select count(*) from (select qname, qtype from dns_answers where qtype in ('A','AAAA')"
            " and qname in (select value from dns_answers where rtype = 'NS')"
            " and qname not in (select domain from list_entries)"
            " and qname not in (select 'www.' || domain from list_entries)"
            " group by qname, qtype having count(distinct domain) > 1)").fetchall()[0]
        assert dupes == 0
    finally:
        con.close()


def test_attribution_agrees_with_the_ground_truth(crawled: Path, lab: dict[str, Any]) -> None:
    con = db.connect(crawled, read_only=True)
    try:
        result = score(con, 1, Path(lab["truth"]), Path(lab["truth_http"]))
    finally:
        con.close()
    for layer, r in result.items():
        assert r["accuracy"] >= 0.99, (layer, r)
        assert r["hhi_rel_diff"] <= 0.01, (layer, r)


def test_report_json_has_the_documented_shape(crawled: Path) -> None:
    r = run("report", "--format", "json", "--db", crawled)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["snapshot"]["snapshot_id"] == 1
    assert set(data["layers"]) == {"hosting", "dns", "cdn", "email", "ca", "third_party"}
    hosting = data["layers"]["hosting"]
    assert {"sites", "attributed", "hhi", "cr", "nakamoto", "providers"} <= set(hosting)
    assert set(hosting["cr"]) == {"1", "3", "5"}
    assert abs(sum(p["share"] for p in hosting["providers"]) - 1.0) < 1e-9
    for p in hosting["providers"]:
        assert {"provider", "sites", "share", "dependence", "critical"} <= set(p)
        assert 0 <= p["critical"] <= p["dependence"] <= 1


def test_report_markdown_and_table(crawled: Path) -> None:
    md = run("report", "--format", "md", "--db", crawled)
    assert md.returncode == 0 and md.stdout.startswith("# Concentration report")
    table = run("report", "--db", crawled)
    assert table.returncode == 0 and "HHI" in table.stdout


def test_explicit_flags_crawl_the_same_lab(lab: dict[str, Any], tmp_path: Path) -> None:
    r = run("crawl", "--resolver", lab["resolver"], "--asn-db", lab["asn_db"], "--list", lab["list"],
            "--top", "50", "--db", tmp_path / "c.duckdb", "--no-progress", "--no-summary", "--timeout", "1")
    assert r.returncode == 0, r.stderr
    assert "50 sites" in r.stderr


def test_lab_mode_uses_published_ranges_and_rdap(crawled: Path) -> None:
    con = db.connect(crawled, read_only=True)
    try:
        evidence = dict(con.execute("select evidence, count(*) from address_providers group by 1").fetchall())
        assert evidence.get("published_range", 0) > 0 and evidence.get("asn", 0) > 0
        (feeds,) = con.execute("select count(*) from snapshot_feeds where snapshot_id = 1").fetchall()[0]
        assert feeds > 0
        (named,) = con.execute("select count(*) from rdap_networks where status = 'OK'").fetchall()[0]
        assert named > 0  # long-tail ASes without an AS-names file are named through the lab's RDAP
        (aws_regions,) = con.execute(
            "select count(distinct region) from address_providers where provider = 'aws'").fetchall()[0]
        assert aws_regions > 1
    finally:
        con.close()


def test_a_dead_resolver_gives_every_site_a_timeout(tmp_path: Path) -> None:
    sites = tmp_path / "list.txt"
    sites.write_text("example.com\nexample.org\nexample.net\n")
    asndb = tmp_path / "ipasn_20260101.dat"
    asndb.write_text("; none\n192.0.2.0/24\t64500\n")
    path = tmp_path / "c.duckdb"
    r = run("crawl", "--list", sites, "--resolver", "127.0.0.1:9", "--timeout", "0.1", "--retries", "1",
            "--asn-db", asndb, "--db", path, "--no-progress", "--no-summary")
    assert r.returncode == 0, r.stderr
    con = db.connect(path, read_only=True)
    try:
        assert con.execute("select status, count(*) from site_outcomes group by 1").fetchall() == [("TIMEOUT", 3)]
        assert con.execute("select distinct status from dns_answers").fetchall() == [("TIMEOUT",)]
        assert con.execute("select status from snapshots").fetchall() == [("complete",)]
    finally:
        con.close()


def test_reattribution_equals_a_fresh_crawl_with_the_new_registry(
    crawled: Path, lab: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    import datasets

    work = tmp_path / "c.duckdb"
    shutil.copy(crawled, work)
    con = db.connect(work, read_only=True)
    try:
        (asn_provider,) = con.execute(
            "select provider from dependencies where layer = 'hosting' and provider like 'as%' "
            "group by 1 order by count(*) desc, 1 limit 1").fetchall()[0]
    finally:
        con.close()
    # The improved registry learns who that AS is.
    registry = tmp_path / "providers.toml"
    registry.write_text(datasets.path("providers.toml").read_text() + (
        f'\n[[provider]]\nid = "newco"\nname = "NewCo Hosting"\norg = "NewCo"\n'
        f'asns = [{asn_provider[2:]}]\nasns_source = "https://bgp.tools/as/{asn_provider[2:]}"\n'))
    r = run("attribute", "--snapshot", "1", "--registry", registry, "--db", work)
    assert r.returncode == 0, r.stderr
    r = run("crawl", "--lab", "--lab-dir", lab["state_dir"], "--registry", registry, "--db", work,
            "--no-progress", "--no-summary", "--timeout", "1")
    assert r.returncode == 0, r.stderr
    con = db.connect(work, read_only=True)
    try:
        def deps(sid: int) -> set[tuple[Any, ...]]:
            return set(con.execute(
                "select domain, layer, provider, evidence, evidence_value, private from dependencies "
                "where snapshot_id = ?", [sid]).fetchall())

        assert deps(1) == deps(2)
        assert any(p == "newco" for _, _, p, *_ in deps(1))
        hashes = con.execute("select registry_hash from snapshots order by snapshot_id").fetchall()
        assert hashes[0] == hashes[1]
    finally:
        con.close()


def test_org_level_merges_services_into_organisations(crawled: Path) -> None:
    by_provider = json.loads(run("report", "--format", "json", "--db", crawled).stdout)
    by_org = json.loads(run("report", "--format", "json", "--level", "org", "--db", crawled).stdout)
    assert by_org["snapshot"]["level"] == "org"
    for layer, data in by_org["layers"].items():
        finer = by_provider["layers"][layer]
        # Merging providers into organisations never lowers concentration (HHI is superadditive).
        assert data["hhi"] >= finer["hhi"] - 1e-6, layer
        assert data["providers_count"] <= finer["providers_count"]
        assert data["attributed"] == finer["attributed"]
    names = {p["provider"] for p in by_org["layers"]["hosting"]["providers"]}
    assert "Amazon" in names and "aws" not in names


def read_truth(path: Path) -> dict[str, dict[str, set[str]]]:
    from scripts.score_lab import read_truth as _read

    return _read(path)


def test_whatif_provider_outage_matches_the_truth(crawled: Path, lab: dict[str, Any]) -> None:
    """Expected counts from the truth alone (truth.csv, with truth_http.csv for cdn, ca and
    third_party): a site is down when a layer it cannot live without (dns, hosting, cdn) has
    all its true providers failed, degraded when any layer has some."""
    failed = {"aws", "cloudfront", "route53", "amazon-ses", "amazon-trust-services"}
    truth = {**read_truth(Path(lab["truth"])), **read_truth(Path(lab["truth_http"]))}
    sites = {d for layer in truth.values() for d in layer}
    down = degraded = 0
    for site in sites:
        layers = {layer: truth[layer].get(site, set()) for layer in truth}
        if any(p and p <= failed for name, p in layers.items() if name in ("dns", "hosting", "cdn")):
            down += 1
        elif any(p & failed for p in layers.values()):
            degraded += 1
    r = run("whatif", "--provider", "aws", "--format", "json", "--db", crawled)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["results"][0]
    assert (got["down"], got["degraded"]) == (down, degraded)
    assert down > 0


def test_whatif_region_outage_matches_an_independent_oracle(crawled: Path, lab: dict[str, Any]) -> None:
    """Expected counts from the world's own AWS range file, matched with ipaddress in Python
    (most specific prefix): a site is down when every address of its apex and www is in the
    region, degraded when some are."""
    import ipaddress

    from crawler.ranges import PARSERS

    world = json.loads(Path(lab["world"]).read_text())
    spec = world["ranges"]["aws"]
    data = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    rows = [r for f in spec["files"] for r in PARSERS[spec["format"]](data / f)]
    nets = sorted(((ipaddress.ip_network(r.prefix), r) for r in rows),
                  key=lambda nr: (nr[0].version, nr[0].prefixlen))
    con = db.connect(crawled, read_only=True)
    try:
        addrs = con.execute(
            "select domain, value from dns_answers where snapshot_id = 1 and rtype in ('A', 'AAAA') "
            "and qtype in ('A', 'AAAA') and (qname = domain or qname = 'www.' || domain)").fetchall()
        region = con.execute(
            "select region from evidence where snapshot_id = 1 and layer = 'hosting' and provider = 'aws' "
            "and region is not null and region <> 'GLOBAL' group by 1 order by count(distinct domain) desc, 1 "
            "limit 1").fetchall()[0][0]
    finally:
        con.close()

    def in_region(ip: str) -> bool:
        a = ipaddress.ip_address(ip)
        best = None
        for net, row in nets:
            if a.version == net.version and a in net and (
                    best is None or net.prefixlen > best[0].prefixlen
                    or (net.prefixlen == best[0].prefixlen and best[1].service == "AMAZON")):
                best = (net, row)
        return best is not None and best[1].region == region

    per_site: dict[str, list[bool]] = {}
    for domain, ip in set(addrs):
        per_site.setdefault(domain, []).append(in_region(ip))
    down = sum(1 for v in per_site.values() if all(v))
    degraded = sum(1 for v in per_site.values() if any(v) and not all(v))
    r = run("whatif", "--provider", "aws", "--region", region, "--format", "json", "--db", crawled)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["results"][0]
    # Name servers and mail exchangers carry no region in the evidence (DNS and mail services
    # are global), so a region outage degrades exactly the sites with some addresses there.
    assert (got["down"], got["degraded"]) == (down, degraded) and down > 0


def test_whatif_rank_and_errors(crawled: Path) -> None:
    r = run("whatif", "--rank", "--format", "json", "--db", crawled)
    assert r.returncode == 0, r.stderr
    ranked = json.loads(r.stdout)["results"]
    downs = [x["down"] for x in ranked]
    assert downs == sorted(downs, reverse=True) and downs[0] > 0
    r = run("whatif", "--provider", "nosuchprovider", "--db", crawled)
    assert r.returncode == 1 and "no provider nosuchprovider" in r.stderr


def test_html_report_holds_the_trend_and_the_outage_ranking(crawled: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    r = run("report", "--format", "html", "--out", out, "--db", crawled)
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") or page.lower().startswith("<!doctype html>")
    for anchor in ('id="provenance"', 'id="trend"', 'id="whatif"', 'id="layer-hosting"'):
        assert anchor in page, anchor
    assert "<script" not in page.lower()


def test_html_what_if_shares_are_fractions_of_the_sites(crawled: Path, tmp_path: Path) -> None:
    import re

    out = tmp_path / "report.html"
    assert run("report", "--format", "html", "--out", out, "--db", crawled).returncode == 0
    cells = re.findall(r'data-metric="down">([0-9.]+)%', out.read_text())
    assert cells and all(0 <= float(c) <= 100 for c in cells)


def test_report_csv_lists_every_provider(crawled: Path) -> None:
    import csv
    import io

    r = run("report", "--format", "csv", "--db", crawled)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    data = json.loads(run("report", "--format", "json", "--db", crawled).stdout)
    assert len(rows) == sum(len(v["providers"]) for v in data["layers"].values())
    hosting = [row for row in rows if row["layer"] == "hosting"]
    assert abs(sum(float(row["share"]) for row in hosting) - 1.0) < 1e-9


def test_analysis_runs_on_a_parquet_export(crawled: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    r = run("export", "--snapshot", "all", "--out", out, "--db", crawled)
    assert r.returncode == 0, r.stderr
    from_db = json.loads(run("report", "--format", "json", "--db", crawled).stdout)
    r = run("report", "--format", "json", "--db", out)
    assert r.returncode == 0, r.stderr
    from_parquet = json.loads(r.stdout)
    assert from_parquet["layers"] == from_db["layers"]
    r = run("whatif", "--provider", "aws", "--format", "json", "--db", out)
    assert r.returncode == 0, r.stderr
    r = run("query", "select count(*) as n from dependencies", "--format", "csv", "--db", out)
    assert r.returncode == 0 and int(r.stdout.splitlines()[1]) > 0
