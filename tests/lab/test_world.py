"""The world generator: deterministic, consistent with its truth, realistic in shape.

The truth check re-derives every site's dependencies from the files alone (the zone, the
resolver's apex NS, the world's pyasn database and the registry), following DESIGN.md's
attribution rules, and requires exactly the rows of ``truth.csv``.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import random
import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import dns.rdatatype
import dns.zone
import pyasn
import pytest

from crawler import registry as registry_mod
from crawler.ranges import nearest_versions
from crawler.toplists import normalise_domain
from scripts.lab import naming
from scripts.lab.sources import org_provider
from scripts.lab.world import FILES, default_data_dir, generate

DATA = default_data_dir()
pytestmark = pytest.mark.skipif(
    not (DATA / "provider_ranges").is_dir(), reason=f"reference data not found at {DATA}"
)
SITES = 600


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate(out, sites=SITES, seed=7)
    return out


def _records(zone_file: Path) -> dict[str, dict[str, list[str]]]:
    zone = dns.zone.from_file(str(zone_file), origin=".", relativize=False)
    out: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for name, rdataset in zone.iterate_rdatasets():
        key = name.to_text().rstrip(".")
        out[key][dns.rdatatype.to_text(rdataset.rdtype)] = [r.to_text() for r in rdataset]
    return out


def _apex_ns(local_conf: Path) -> dict[str, list[str]]:
    ns: dict[str, list[str]] = defaultdict(list)
    for match in re.finditer(
        r'local-data: "([^ ]+)\. \d+ IN NS ([^ ]+)\."', local_conf.read_text()
    ):
        ns[match[1]].append(match[2])
    return ns


def derive_truth(world_dir: Path) -> set[tuple[str, str, str]]:
    """Attribute every site from the world's files alone (DESIGN.md, "Attribution")."""
    reg = registry_mod.load()
    rec = _records(world_dir / "root.zone")
    asndb = pyasn.pyasn(str(world_dir / "ipasn.dat"))

    world = json.loads((world_dir / "world.json").read_text())
    byoip = [(ipaddress.ip_network(b["cidr"]), b["provider"]) for b in world["byoip"]]
    unrouted = [(ipaddress.ip_network(n["cidr"]), org_provider(n["org"]))
                for n in json.loads((world_dir / "rdap_networks.json").read_text())]

    def label(address: str) -> str:
        ip = ipaddress.ip_address(address)
        for net, provider in byoip:  # the published range wins over the customer's route
            if ip in net:
                return provider
        asn = asndb.lookup(address)[0]
        if asn is None:  # unrouted: only RDAP names it
            (provider,) = [p for net, p in unrouted if ip in net]
            return provider
        return reg.provider_for_asn(asn) or f"as{asn}"

    def addresses(name: str) -> tuple[list[str], list[str]]:
        chain = []
        while "CNAME" in rec.get(name, {}):
            name = rec[name]["CNAME"][0].rstrip(".")
            chain.append(name)
        return rec.get(name, {}).get("A", []) + rec.get(name, {}).get("AAAA", []), chain

    out: set[tuple[str, str, str]] = set()
    for domain, ns_hosts in _apex_ns(world_dir / "unbound-local.conf").items():
        apex, _ = addresses(domain)
        www, chain = addresses(f"www.{domain}")
        out |= {(domain, "hosting", label(a)) for a in apex + www}
        out |= {(domain, "cdn", hit[0]) for n in chain if (hit := reg.match_suffix("cname", n))}
        for host in ns_hosts:
            if hit := reg.match_suffix("ns", host):
                out.add((domain, "dns", hit[0]))
            elif host.endswith("." + domain):
                out.add((domain, "dns", domain))
            else:
                out |= {(domain, "dns", label(a)) for a in addresses(host)[0]}
        for mx in rec.get(domain, {}).get("MX", []):
            host = mx.split()[1].rstrip(".")
            if hit := reg.match_suffix("mx", host):
                out.add((domain, "email", hit[0]))
            elif host.endswith("." + domain):
                out.add((domain, "email", domain))
            elif mx_addresses := addresses(host)[0]:
                out |= {(domain, "email", label(a)) for a in mx_addresses}
            else:
                out.add((domain, "email", normalise_domain(host)))
    return out


def _truth(world_dir: Path) -> list[dict[str, str]]:
    with (world_dir / "truth.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_deterministic(world_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, sites=SITES, seed=7)
    for name in FILES:
        assert (again / name).read_bytes() == (world_dir / name).read_bytes(), name
    other = tmp_path / "other"
    generate(other, sites=SITES, seed=8)
    assert (other / "truth.csv").read_bytes() != (world_dir / "truth.csv").read_bytes()


def test_truth_is_derivable_from_the_records(world_dir: Path) -> None:
    rows = {(r["domain"], r["layer"], r["provider"]) for r in _truth(world_dir)}
    assert len(rows) == len(_truth(world_dir)), "duplicate truth rows"
    assert derive_truth(world_dir) == rows


def test_list_absent_sites_and_shape(world_dir: Path) -> None:
    with (world_dir / "list.csv").open() as fh:
        listed = [(int(r["rank"]), r["domain"]) for r in csv.DictReader(fh)]
    assert [rank for rank, _ in listed] == list(range(1, SITES + 1))
    truth = _truth(world_dir)
    present = {r["domain"] for r in truth}
    rec = _records(world_dir / "root.zone")
    absent = [d for _, d in listed if d not in present]
    assert 0 < len(absent) < SITES * 0.04
    for domain in absent:  # NXDOMAIN: no name at or below the site
        assert not any(n == domain or n.endswith("." + domain) for n in rec)
    layers: dict[str, set[str]] = defaultdict(set)
    for r in truth:
        layers[r["layer"]].add(r["domain"])
    assert layers["hosting"] == layers["dns"] == present
    assert 0.25 < len(layers["cdn"]) / len(present) < 0.45
    assert 0.70 < len(layers["email"]) / len(present) < 0.90
    hosting = [r["provider"] for r in truth if r["layer"] == "hosting"]
    assert 0.15 < sum(p.startswith("as") for p in hosting) / len(hosting) < 0.35
    world: dict[str, Any] = json.loads((world_dir / "world.json").read_text())
    assert world["sites"] == SITES and world["present"] == len(present)
    assert world["summary"]["cdn"]["hhi"] > world["summary"]["hosting"]["hhi"] > 0


def test_addresses_are_public_and_in_the_asn_db(world_dir: Path) -> None:
    """Every address is public and routed — but for the unrouted case, which RDAP alone names,
    and the private names the web's redirects point at on purpose (the crawler must not go)."""
    asndb = pyasn.pyasn(str(world_dir / "ipasn.dat"))
    rec = _records(world_dir / "root.zone")
    unrouted = [ipaddress.ip_network(n["cidr"]) for n in json.loads((world_dir / "rdap_networks.json").read_text())]
    private = set(json.loads((world_dir / "world.json").read_text())["web"]["private_names"])
    assert private
    seen = 0
    for name, types in rec.items():
        for address in types.get("A", []) + types.get("AAAA", []):
            if name == "ns.lab.invalid":
                continue
            if name in private:
                assert ipaddress.ip_address(address).is_private, (name, address)
                continue
            seen += 1
            assert ipaddress.ip_address(address).is_global, (name, address)
            routed = asndb.lookup(address)[0] is not None
            assert routed != any(ipaddress.ip_address(address) in net for net in unrouted), (name, address)
    assert seen > SITES


def test_real_list_and_its_date(tmp_path: Path) -> None:
    radar = DATA / "toplists" / "cloudflare_radar" / "radar_top-1000_2026-04-21.csv.gz"
    world = generate(tmp_path, sites=200, seed=1, list_path=radar)
    assert world["date"] == "2026-04-21" and world["date_source"] == "list"
    assert world["ranges"]["aws"]["date"] == "2026-08-21"
    with (tmp_path / "list.csv").open() as fh:
        assert next(csv.DictReader(fh))["domain"] == "0xrpc.io"
    opendns = DATA / "toplists" / "opendns_top10k_2014" / "opendns-top-domains_2014-06-04.txt"
    world = generate(tmp_path, sites=200, seed=1, list_path=opendns)
    assert world["date"] == "2014-06-04" and world["ranges"]["aws"]["date"] == "2015-12-23"
    rows = {(r["domain"], r["layer"], r["provider"]) for r in _truth(tmp_path)}
    assert derive_truth(tmp_path) == rows


def _by_site(rows: list[dict[str, str]]) -> dict[str, dict[str, set[str]]]:
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        out[r["domain"]][r["layer"]].add(r["provider"])
    return out


def test_truth_uses_service_level_ids(world_dir: Path) -> None:
    reg = registry_mod.load()
    rows = _truth(world_dir)
    used: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        used[r["layer"]].add(r["provider"])
        p = reg.providers.get(r["provider"])
        if p is not None and r["layer"] != "hosting":  # hosting is whoever's AS it is
            assert r["layer"] in p.layers, r
        elif p is None:  # the long tail: an AS or a domain (private, or an MX host's)
            assert re.fullmatch(r"as\d+", r["provider"]) or "." in r["provider"] or (
                r["layer"] == "hosting" and r["provider"].startswith("org:")), r
    assert {"route53", "azure-dns", "akamai-edge-dns", "google-cloud"} <= used["dns"]
    assert {"cloudfront", "azure-front-door", "akamai"} <= used["cdn"]
    assert {"google-workspace", "microsoft-365"} <= used["email"]
    assert not {"aws", "google", "microsoft"} & (used["dns"] | used["email"] | used["cdn"])
    # a service's addresses belong to its network: CloudFront edges are AWS, Front Door Azure
    for layers in _by_site(rows).values():
        if "cloudfront" in layers["cdn"] and len(layers["cdn"]) == 1:
            assert "aws" in layers["hosting"], layers
        if "azure-front-door" in layers["cdn"] and len(layers["cdn"]) == 1:
            assert "microsoft" in layers["hosting"], layers


def test_stacked_and_mixed_cases(world_dir: Path) -> None:
    world: dict[str, Any] = json.loads((world_dir / "world.json").read_text())
    cases = world["cases"]
    for case in ("cdn_stack", "v6_only", "apex_origin", "dns_split", "mx_backup", "dns_private",
                 "mx_private"):
        assert cases.get(case, 0) > 0, (case, cases)
    sites = _by_site(_truth(world_dir))
    rec = _records(world_dir / "root.zone")
    # two CDNs in one chain: both in the truth
    assert sum(len(layers["cdn"]) == 2 for layers in sites.values()) == cases["cdn_stack"]
    # IPv6 only: the apex has AAAA and no A
    v6_only = [d for d in sites if "AAAA" in rec[d] and "A" not in rec[d]]
    assert len(v6_only) == cases["v6_only"]
    assert sum(len(layers["dns"]) > 1 for layers in sites.values()) >= cases["dns_split"]
    assert sum(len(layers["email"]) > 1 for layers in sites.values()) >= cases["mx_backup"]
    assert sum(len(layers["hosting"]) > 1 for layers in sites.values()) > 0  # apex at an origin


def test_cloudfront_edges_come_from_its_published_ranges(tmp_path: Path) -> None:
    radar = DATA / "toplists" / "cloudflare_radar" / "radar_top-10000_2026-04-27.csv.gz"
    world = generate(tmp_path, sites=1500, seed=3, list_path=radar)
    assert world["ranges"]["aws"]["format"] == "aws"  # the feed that names services
    feed = nearest_versions(DATA / "provider_ranges", date.fromisoformat(world["date"]))["aws"]
    cloudfront = [
        ipaddress.ip_network(r.prefix) for r in feed.rows() if r.service == "CLOUDFRONT"
    ]
    rec = _records(tmp_path / "root.zone")
    edges = [
        a
        for name, types in rec.items()
        if name.endswith(".cloudfront.net")
        for a in types.get("A", []) + types.get("AAAA", [])
    ]
    assert edges
    for a in edges:
        ip = ipaddress.ip_address(a)
        assert any(ip in net for net in cloudfront if net.version == ip.version), a


def test_templates_name_hosts_under_their_providers_suffixes() -> None:
    reg = registry_mod.load()
    rng = random.Random(3)
    for _ in range(20):
        for provider in naming.NS_TEMPLATES:
            p = reg.providers[provider]
            assert "dns" in p.layers, provider
            for host in naming.ns_names(provider, p.ns_suffixes, rng):
                hit = reg.match_suffix("ns", host)
                assert hit is not None and hit[0] == provider, host
        for provider in naming.MX_TEMPLATES:
            p = reg.providers[provider]
            assert "email" in p.layers, provider
            for _, host in naming.mx_names(provider, p.mx_suffixes, rng, "example.com", "tok"):
                hit = reg.match_suffix("mx", host)
                assert hit is not None and hit[0] == provider, host
        for provider in naming.CDN_TEMPLATES:
            p = reg.providers[provider]
            assert "cdn" in p.layers, provider
            chain = naming.cdn_chain(provider, p.cname_suffixes, rng, "example.com", "tok")
            assert 1 <= len(chain) <= 2
            for host in chain:
                hit = reg.match_suffix("cname", host)
                assert hit is not None and hit[0] == provider, host
