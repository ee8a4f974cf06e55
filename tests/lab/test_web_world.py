"""The world's web: deterministic, every case present at 300 sites, and ``truth_http.csv`` and
``resources.csv`` exactly what the crawler's rules conclude from the world's files.

The check crawls every site on paper from ``web.tsv`` and the zone alone (DNS for each hop, the
served headers, the rendered page parsed by the crawler's own resource parser, the third-party
hosts' records and the world's pyasn database), independently of the generator's own derivation.
"""

from __future__ import annotations

import csv
import ipaddress
import json
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyasn
import pytest

from crawler import registry as registry_mod
from crawler.attribution import org_slug
from crawler.http.resources import resource_hosts
from crawler.pages import is_third_party
from scripts.lab import certs
from scripts.lab.sources import org_provider
from scripts.lab.web import PLAIN, HostRule, Page, header_profiles, render_page, response_headers
from scripts.lab.world import default_data_dir, generate
from tests.lab.test_world import _records

DATA = default_data_dir()
pytestmark = pytest.mark.skipif(
    not (DATA / "provider_ranges").is_dir(), reason=f"reference data not found at {DATA}"
)
SITES = 300
CASES = (
    "https_ok", "http_only", "expired", "wrong_name", "untrusted", "apex_to_www", "www_to_apex", "http_to_https",
    "robots_deny", "robots_deny_agent", "header_cdn", "cname_cdn", "private_ip", "private_name", "loopback",
    "redirect_loop", "offsite", "malformed", "regional_ca", "static_host",
)


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("webworld")
    generate(out, sites=SITES, seed=11)
    return out


def _rows(path: Path) -> set[tuple[str, ...]]:
    with path.open(newline="") as fh:
        return {tuple(r.values()) for r in csv.DictReader(fh)}


def _rules(world_dir: Path) -> dict[str, HostRule]:
    lines = (world_dir / "web.tsv").read_text().splitlines()
    assert lines[0].startswith("#host\ttls\tca\thttp\tredirect\theaders\trobots\tpage")
    return {r.host: r for r in map(HostRule.parse, lines[1:])}


def test_files_and_formats(world_dir: Path) -> None:
    rules = _rules(world_dir)
    world: dict[str, Any] = json.loads((world_dir / "world.json").read_text())
    cas = {ca.key for ca in certs.read_cas(world_dir / certs.CAS_FILE)}
    profiles = header_profiles(registry_mod.load())
    for r in rules.values():
        assert r.tls in ("valid", "none", "expired", "wrong_name", "untrusted"), r
        assert r.ca in cas or (r.ca == "-" and r.tls == "none"), r
        assert r.http in ("upgrade", "serve") and r.robots in ("allow", "deny", "deny-agent"), r
        assert r.headers in profiles, r
    with (world_dir / "truth_http.csv").open() as fh:
        header = fh.readline().strip()
        layers = {line.split(",")[1] for line in fh}
    assert header == "domain,layer,provider" and layers == {"cdn", "ca", "third_party"}
    assert (world_dir / "resources.csv").read_text().startswith("domain,host\n")
    # O(1) lines per site: its apex and www, then the third-party hosts
    assert len(rules) <= 2 * world["present"] + world["web"]["third_party_hosts"]


def test_every_case_at_300_sites(world_dir: Path) -> None:
    web = json.loads((world_dir / "world.json").read_text())["web"]
    assert web["forced_missing"] == []
    missing = [c for c in CASES if web["cases"].get(c, 0) < 1]
    assert not missing, (missing, web["cases"])
    assert 100 <= web["third_party_hosts"] <= 300
    assert web["cases"]["https_ok"] > 0.9 * SITES


def test_deterministic(world_dir: Path, tmp_path: Path) -> None:
    generate(tmp_path, sites=SITES, seed=11)
    for name in ("web.tsv", "truth_http.csv", "resources.csv", "cas.json", "root.zone", "world.json"):
        assert (tmp_path / name).read_bytes() == (world_dir / name).read_bytes(), name
    generate(tmp_path, sites=SITES, seed=12)
    assert (tmp_path / "web.tsv").read_bytes() != (world_dir / "web.tsv").read_bytes()


class _Paper:
    """The world's DNS and address owners, read from its files."""

    def __init__(self, world_dir: Path) -> None:
        self.rec = _records(world_dir / "root.zone")
        self.asndb = pyasn.pyasn(str(world_dir / "ipasn.dat"))
        self.reg = registry_mod.load()
        world = json.loads((world_dir / "world.json").read_text())
        self.byoip = [(ipaddress.ip_network(b["cidr"]), b["provider"]) for b in world["byoip"]]
        self.unrouted = [(ipaddress.ip_network(n["cidr"]), org_provider(n["org"]))
                         for n in json.loads((world_dir / "rdap_networks.json").read_text())]

    def resolve(self, name: str) -> tuple[list[str], list[str]]:
        chain: list[str] = []
        while "CNAME" in self.rec.get(name, {}):
            name = self.rec[name]["CNAME"][0].rstrip(".")
            chain.append(name)
        return self.rec.get(name, {}).get("A", []) + self.rec.get(name, {}).get("AAAA", []), chain

    def label(self, address: str) -> str:
        ip = ipaddress.ip_address(address)
        for net, provider in self.byoip:
            if ip in net:
                return provider
        asn = self.asndb.lookup(address)[0]
        if asn is None:
            return next(p for net, p in self.unrouted if ip in net)
        return self.reg.provider_for_asn(asn) or f"as{asn}"

    def host_providers(self, host: str) -> set[str]:
        addresses, chain = self.resolve(host)
        cdn = set()
        for n in chain:
            hit = self.reg.match_suffix("cname", n)
            if hit and "cdn" in self.reg.providers[hit[0]].layers:
                cdn.add(hit[0])
        assert addresses, host
        return cdn or {self.label(a) for a in addresses}


def _crawl(domain: str, rules: dict[str, HostRule], paper: _Paper) -> tuple[str, list[tuple[str, str]], Any]:
    """The crawler's fetch of one site, on paper: (status, verified (host, CA), final)."""
    url, first, verified = f"https://{domain}/", True, []
    for _ in range(11):
        parts = urlsplit(url)
        host, scheme = parts.hostname or "", parts.scheme
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            ipaddress.ip_address(host)
            return "BLOCKED", verified, None
        except ValueError:
            pass
        addresses, _ = paper.resolve(host)
        assert addresses, host
        if not all(ipaddress.ip_address(a).is_global for a in addresses):
            return "BLOCKED", verified, None
        rule = rules[host]
        if rule.robots != "allow":
            return "ROBOTS_DISALLOWED", verified, None
        if scheme == "https":
            if rule.tls == "valid":
                verified.append((host, rule.ca))
            elif first:
                scheme = "http"
            else:
                return "TLS", verified, None
        first = False
        if scheme == "http" and rule.http == "upgrade":
            url = f"https://{host}{path}"
        elif rule.redirect != "-":
            target = rule.redirect.split(" ", 1)[1]
            url = target[1:] if target.startswith("=") else target + path
        else:
            return "OK", verified, (scheme, host, path, rule)
    return "TOO_MANY_REDIRECTS", verified, None


def test_truth_http_and_resources_follow_from_the_files(world_dir: Path) -> None:
    paper, rules = _Paper(world_dir), _rules(world_dir)
    reg = paper.reg
    cas = {ca.key: ca for ca in certs.read_cas(world_dir / certs.CAS_FILE)}
    dns_cdn: dict[str, set[str]] = defaultdict(set)
    sites: list[str] = []
    for domain, layer, provider in _rows(world_dir / "truth.csv"):
        if layer == "cdn":
            dns_cdn[domain].add(provider)
        if layer == "hosting" and domain not in sites:
            sites.append(domain)
    derived: set[tuple[str, ...]] = set()
    resources: set[tuple[str, ...]] = set()
    statuses: dict[str, int] = defaultdict(int)
    for domain in sites:
        status, verified, final = _crawl(domain, rules, paper)
        statuses[status] += 1
        cdn = set(dns_cdn[domain])
        ca = {reg.match_issuer(cas[k].issuing_org) or org_slug(cas[k].issuing_org)
              for h, k in verified if h == domain or h.endswith("." + domain)}
        third: set[str] = set()
        if final is not None:
            scheme, host, path, rule = final
            headers = {k.lower(): v for k, v in response_headers(rule.headers, 7, reg)}
            cdn |= {p for p, _ in reg.match_headers(headers)}
            body = render_page(host, Page.parse(rule.page))
            found = {h for h, _, _ in resource_hosts(body, f"{scheme}://{host}{path}", "text/html")}
            for h in found:
                if is_third_party(h, domain):
                    resources.add((domain, h))
                    third |= paper.host_providers(h)
        derived |= {(domain, "cdn", p) for p in cdn} | {(domain, "ca", p) for p in ca}
        derived |= {(domain, "third_party", p) for p in third}
    assert derived == _rows(world_dir / "truth_http.csv")
    assert resources == _rows(world_dir / "resources.csv")
    for status in ("OK", "BLOCKED", "ROBOTS_DISALLOWED", "TOO_MANY_REDIRECTS"):
        assert statuses[status] > 0, statuses
    # an HTTP crawl sees every CNAME CDN too, and header-only CDNs besides
    http_cdn: dict[str, set[str]] = defaultdict(set)
    for domain, layer, provider in _rows(world_dir / "truth_http.csv"):
        if layer == "cdn":
            http_cdn[domain].add(provider)
    assert all(http_cdn[d] >= dns_cdn[d] for d in sites)
    assert any(http_cdn[d] > dns_cdn[d] for d in sites)


def test_header_profiles_name_only_their_provider() -> None:
    reg = registry_mod.load()
    for profile in header_profiles(reg):
        named = [{p for p, _ in reg.match_headers({k.lower(): v for k, v in response_headers(profile, seq, reg)})}
                 for seq in range(40)]
        expected = set() if profile in PLAIN or not reg.providers[profile].headers else {profile}
        assert all(n == expected for n in named), (profile, named[:3])


def test_lab_cas_follow_the_registry() -> None:
    reg = registry_mod.load()
    cas = certs.authorities(reg)
    keys = [ca.key for ca in cas]
    assert keys[-2:] == [certs.REGIONAL, certs.UNTRUSTED] and len(set(keys)) == len(keys)
    for ca in cas[:-2]:
        assert reg.match_issuer(ca.issuing_org) == ca.provider, ca
    assert reg.match_issuer(certs.REGIONAL_CA.issuing_org) is None
    assert org_slug(certs.REGIONAL_CA.issuing_org) == f"org:{certs.REGIONAL_CA.issuing_org}"
    by_key = {ca.key: ca for ca in cas}
    assert by_key["letsencrypt"].issuing_org == "Let's Encrypt" and by_key["letsencrypt"].issuing_cn == "R11"
    assert {"letsencrypt", "google-trust-services", "digicert", "sectigo", "amazon-trust-services"} <= set(keys)
