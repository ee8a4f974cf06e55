"""The provider registry: consistent, sourced, checked against bgp.tools, matching as documented."""

from __future__ import annotations

import csv
import gzip
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

import datasets
from crawler import registry
from crawler.registry import HeaderFingerprint, Provider, RegistryError

REQUIRED = {
    "aws", "cloudfront", "route53", "amazon-ses",
    "google", "google-cloud", "google-workspace",
    "microsoft", "azure-front-door", "azure-dns", "microsoft-365",
    "akamai", "akamai-edge-dns", "linode", "oracle", "dyn",
    "cloudflare", "fastly", "alibaba", "tencent", "huawei-cloud", "ibm-cloud", "scaleway", "vultr",
    "digitalocean", "hetzner", "ovh", "godaddy", "edgio", "limelight", "stackpath", "bunny",
    "cdn77", "gcore", "cachefly", "imperva", "sucuri", "vercel", "netlify", "github", "shopify",
    "wix", "squarespace", "automattic", "heroku", "dnsimple", "dnsmadeeasy", "gandi", "namecheap",
    "ns1", "ultradns", "cloudns", "hurricane-electric", "ionos", "hostinger", "newfold",
    "dreamhost", "rackspace", "proofpoint", "mimecast", "zoho", "yandex", "barracuda",
    "cisco-secure-email", "fastmail", "proton", "mailgun",
    "letsencrypt", "google-trust-services", "amazon-trust-services", "microsoft-pki", "digicert",
    "sectigo", "globalsign", "entrust", "zerossl", "ssl-com", "buypass", "certum", "harica", "actalis",
    "identrust", "trustasia", "apple-pki",
}
FACTS = (("asns", "asns_source"), ("cname_suffixes", "cname_source"), ("ns_suffixes", "ns_source"),
         ("mx_suffixes", "mx_source"), ("headers", "headers_source"),
         ("range_feeds", "range_feeds_source"), ("issuer_orgs", "issuer_orgs_source"))
BGPTOOLS = (Path(__file__).resolve().parents[2] / "shared" / "data" / "asn_names" / "bgptools_opendb"
            / "asns_2026-05-31.csv.gz")
#: ASNs bgp.tools names by a legal entity that shares no word with the provider
LEGAL_NAMES = {16552: "tiggee", 46606: "unifiedlayer", 26347: "newdreamnetwork"}
#: words too generic to tie an AS name to a provider
GENERIC = {"cloud", "dns", "mail", "email", "the", "and", "company", "network", "networks", "hosting",
           "services", "web", "secure", "connected", "free", "protection", "inbound", "parse", "pages",
           "online", "connect", "edge", "front", "door", "exchange"}


def _doc() -> dict:  # type: ignore[type-arg]
    return tomllib.loads(datasets.path("providers.toml").read_text())


def _provider(pid: str, **kw) -> Provider:  # type: ignore[no-untyped-def]
    return Provider(id=pid, name=pid, org=pid, **kw)


def _build(*providers: Provider) -> registry.Registry:
    return registry.build(providers, version="t", sha256="0" * 64, path="test")


def test_bundled_registry_loads_and_has_the_required_providers() -> None:
    reg = registry.load()
    assert set(reg.providers) >= REQUIRED
    assert len(reg.providers) >= 60
    assert len(reg.sha256) == 64
    assert reg.version == "2026-11-27"
    by_layer = Counter(layer for p in reg.providers.values() for layer in p.layers)
    assert all(by_layer[layer] >= 15 for layer in ("hosting", "dns", "cdn", "email", "ca")), by_layer


def test_every_fact_has_a_source() -> None:
    for p in _doc()["provider"]:
        for facts, source in FACTS:
            if p.get(facts):
                urls = p.get(source, "").split(" ; ")
                assert urls and all(re.fullmatch(r"https?://\S+", u) for u in urls), \
                    f"{p['id']}: {facts} without a URL in {source}"
        for asn in p.get("asns", ()):
            assert f"https://bgp.tools/as/{asn}" in p["asns_source"].split(" ; "), (p["id"], asn)


def test_services_layers_and_facts_agree() -> None:
    reg = registry.load()
    for p in reg.providers.values():
        assert p.layers, p.id
        if p.ns_suffixes:
            assert "dns" in p.layers, p.id
        if p.mx_suffixes:
            assert "email" in p.layers, p.id
        if p.headers:
            assert "cdn" in p.layers, p.id
        if p.range_feeds:  # prefixes are named by their network, which has an AS
            assert p.asns, p.id
        assert bool(p.issuer_orgs) == ("ca" in p.layers), p.id
        if p.parent:  # a service belongs to its parent's organisation
            assert reg.org_of(p.id) == reg.org_of(p.parent), p.id
    # the service split: evidence of one service names the service, addresses the network
    assert reg.parent_of("cloudfront") == reg.parent_of("route53") == reg.parent_of("amazon-ses") == "aws"
    assert not reg.providers["cloudfront"].asns and reg.provider_for_asn(16509) == "aws"
    assert reg.parent_of("google-workspace") == reg.parent_of("google-cloud") == "google"
    assert reg.provider_for_asn(15169) == "google" and reg.provider_for_asn(396982) == "google-cloud"
    assert {reg.parent_of(p) for p in ("azure-front-door", "azure-dns", "microsoft-365")} == {"microsoft"}
    assert reg.parent_of("akamai-edge-dns") == reg.parent_of("linode") == "akamai"
    assert reg.parent_of("dyn") == "oracle"
    # a CA inside a split organisation is a service of it; an unsplit provider serves ca itself
    assert reg.parent_of("google-trust-services") == "google"
    assert reg.parent_of("amazon-trust-services") == "aws"
    assert reg.parent_of("microsoft-pki") == "microsoft"
    assert reg.parent_of("apple-pki") == "apple"
    assert "ca" in reg.providers["cloudflare"].layers and "ca" in reg.providers["godaddy"].layers


@pytest.mark.skipif(not BGPTOOLS.exists(), reason=f"bgp.tools dump not found at {BGPTOOLS}")
def test_every_asn_is_named_for_its_provider_by_bgptools() -> None:
    with gzip.open(BGPTOOLS, "rt", encoding="utf-8") as fh:
        names = {int(r["asn"][2:]): r["name"] for r in csv.DictReader(fh) if r["asn"][2:].isdigit()}

    def squash(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    for p in registry.load().providers.values():
        words = {squash(w) for w in re.split(r"[^A-Za-z0-9.&-]+", f"{p.id} {p.name} {p.org}")}
        words = {w for w in words if len(w) >= 3 and w not in GENERIC}
        for asn in p.asns:
            assert asn in names, f"{p.id}: AS{asn} is not in bgp.tools' dump"
            named = squash(names[asn])
            assert any(w in named for w in words) or LEGAL_NAMES.get(asn, "-") in named, \
                f"{p.id}: bgp.tools names AS{asn} {names[asn]!r}"


def test_no_two_providers_claim_one_asn_suffix_header_or_feed() -> None:
    reg = registry.load()  # build() raises on a clash; check the loaded data too
    seen: dict[tuple[str, str], str] = {}
    for p in reg.providers.values():
        for kind, values in (("asn", p.asns), ("cname", p.cname_suffixes), ("ns", p.ns_suffixes),
                             ("mx", p.mx_suffixes), ("header", p.headers), ("feed", p.range_feeds),
                             ("issuer", p.issuer_orgs)):
            for v in values:
                key = (kind, str(v))
                assert seen.setdefault(key, p.id) == p.id, f"{key} claimed by {seen[key]} and {p.id}"


@pytest.mark.parametrize("field,value", [
    ("asns", "[16509]"),
    ("ns_suffixes", '["ns.cloudflare.com"]'),
    ("ns_suffixes", '["awsdns-*.net"]'),
    ("cname_suffixes", '["CloudFront.net."]'),
    ("mx_suffixes", '["google.com"]'),
    ("headers", '[{name = "CF-Ray"}]'),
    ("headers", '[{name = "server", value = "Cloudflare"}]'),
    ("range_feeds", '["aws"]'),
])
def test_a_clash_is_an_error(tmp_path: Path, field: str, value: str) -> None:
    text = datasets.path("providers.toml").read_text()
    text += f'\n[[provider]]\nid = "copycat"\nname = "Copycat"\n{field} = {value}\n'
    p = tmp_path / "providers.toml"
    p.write_text(text)
    with pytest.raises(RegistryError, match="claimed by both"):
        registry.load(p)


def test_same_suffix_in_another_kind_or_header_with_another_value_is_fine() -> None:
    reg = _build(
        _provider("a", ns_suffixes=("a.example",), headers=(HeaderFingerprint("server", "a"),)),
        _provider("b", mx_suffixes=("a.example",), headers=(HeaderFingerprint("server", "b"),
                                                            HeaderFingerprint("server"))),
    )
    assert reg.match_suffix("ns", "x.a.example") == ("a", "a.example")
    assert reg.match_suffix("mx", "x.a.example") == ("b", "a.example")


def test_parents_must_exist_and_not_cycle() -> None:
    with pytest.raises(RegistryError, match="parent 'nowhere' is not a provider"):
        _build(_provider("a", parent="nowhere"))
    with pytest.raises(RegistryError, match="parent cycle: a -> b -> c -> a"):
        _build(_provider("a", parent="b"), _provider("b", parent="c"), _provider("c", parent="a"))
    with pytest.raises(RegistryError, match="parent cycle: a -> a"):
        _build(_provider("a", parent="a"))
    reg = _build(_provider("top"), _provider("mid", parent="top"), _provider("leaf", parent="mid"))
    assert reg.parent_of("leaf") == "mid" and reg.parent_of("top") is None


def test_bad_ids_layers_and_headers_are_errors(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="unknown layers"):
        _build(_provider("a", layers=("hosting", "dsn")))
    with pytest.raises(RegistryError, match="slug"):
        _build(_provider("as13335"))
    with pytest.raises(RegistryError, match="defined twice"):
        _build(_provider("a"), _provider("a"))
    p = tmp_path / "providers.toml"
    p.write_text('[[provider]]\nid = "a"\nheaders = [{value = "x"}]\n')
    with pytest.raises(RegistryError, match="needs a name"):
        registry.load(p)


def test_org_parent_name_lookups() -> None:
    reg = registry.load()
    assert reg.org_of("cloudfront") == reg.org_of("aws") == "Amazon"
    assert reg.org("route53") == "Amazon" and reg.name("aws") == "Amazon Web Services"
    assert reg.org_of("as64500") == "as64500" and reg.org_of("example.com") == "example.com"
    assert reg.org("as64500") is None and reg.name("example.com") is None
    assert reg.parent_of("cloudfront") == "aws" and reg.parent_of("aws") is None
    assert reg.parent_of("as64500") is None
    assert {p.id for p in reg.with_layer("email")} >= {"google-workspace", "microsoft-365"}


def test_header_matching() -> None:
    reg = registry.load()
    got = reg.match_headers({"Server": "cloudflare", "CF-RAY": "8a1b2c3d4e5f-AMS"})
    assert {pid for pid, _ in got} == {"cloudflare"} and len(got) == 2
    assert [pid for pid, _ in reg.match_headers({"Via": "1.1 abc.cloudfront.net (CloudFront)"})] == [
        "cloudfront"]
    assert [pid for pid, _ in reg.match_headers({"x-served-by": "cache-ams21-AMS"})] == ["fastly"]
    assert [pid for pid, _ in reg.match_headers({"X-Fastly-Request-ID": "5d6e7f"})] == ["fastly"]
    assert [pid for pid, _ in reg.match_headers({"Server": "AkamaiGHost"})] == ["akamai"]
    assert [pid for pid, _ in reg.match_headers({"X-Akamai-Request-ID": "1a2b"})] == ["akamai"]
    assert [pid for pid, _ in reg.match_headers({"x-nf-request-id": "01KJD9FATBP38BK9EPSN617QKP"})] == [
        "netlify"]
    assert [pid for pid, _ in reg.match_headers({"Server": "CDN77-Turbo"})] == ["cdn77"]
    assert [pid for pid, _ in reg.match_headers({"Server": "keycdn-engine"})] == ["keycdn"]
    assert reg.match_headers({"Server": "nginx", "X-Cache": "HIT"}) == []
    assert HeaderFingerprint("x-hw").matches({"X-HW": "1.2"})


def test_range_feeds_name_their_provider() -> None:
    reg = registry.load()
    assert reg.provider_for_feed("aws") == "aws"
    assert reg.provider_for_feed("google") == "google-cloud"  # GCP's cloud.json
    assert reg.provider_for_feed("softlayer-ibm") == "ibm-cloud"
    assert reg.provider_for_feed("no-such-feed") is None


@pytest.mark.parametrize("kind,host,expected", [
    ("ns", "ns-1536.awsdns-00.co.uk", "route53"),
    ("ns", "NS-12.AWSDNS-01.COM.", "route53"),
    ("ns", "kate.ns.cloudflare.com", "cloudflare"),
    ("ns", "ns-cloud-a1.googledomains.com", "google-cloud"),
    ("ns", "ns1.google.com", "google"),
    ("ns", "ns1-01.azure-dns.com", "azure-dns"),
    ("ns", "a1-64.akam.net", "akamai-edge-dns"),
    ("ns", "ns1.p68.dns.oraclecloud.net", "oracle-dns"),
    ("ns", "ns1045.ui-dns.de", "ionos"),
    ("cname", "d111111abcdef8.cloudfront.net", "cloudfront"),
    ("cname", "my-bucket.s3.amazonaws.com", "aws"),
    ("cname", "e1234.a.akamaiedge.net", "akamai"),
    ("cname", "example.com.cdn.cloudflare.net", "cloudflare"),
    ("cname", "example.z01.azurefd.net", "azure-front-door"),
    ("cname", "example.azurewebsites.net", "microsoft"),
    ("cname", "service-abc-uc.a.run.app", "google-cloud"),
    ("cname", "ghs.googlehosted.com", "google"),
    ("mx", "example-com.mail.protection.outlook.com", "microsoft-365"),
    ("mx", "aspmx.l.google.com", "google-workspace"),
    ("mx", "inbound-smtp.eu-west-1.amazonaws.com", "amazon-ses"),
    ("mx", "mx1.hc4236-15.iphmx.com", "cisco-secure-email"),
    ("mx", "mx1.example.com", None),
    ("mx", "inbound-smtp.amazonaws.com", None),
    ("ns", "awsdns-01.com.evil.example", None),
])
def test_suffix_matching(kind: str, host: str, expected: str | None) -> None:
    hit = registry.load().match_suffix(kind, host)
    assert (hit[0] if hit else None) == expected


# -- the ca layer: issuer organisations -------------------------------------------------------


@pytest.mark.parametrize("org,expected", [
    ("Let's Encrypt", "letsencrypt"),
    ("LET'S ENCRYPT", "letsencrypt"),
    ("  Let's   Encrypt\t", "letsencrypt"),
    ("Google Trust Services", "google-trust-services"),
    ("Google Trust Services LLC", "google-trust-services"),
    ("DigiCert Inc", "digicert"),
    ("DigiCert, Inc.", "digicert"),
    ("Sectigo Limited", "sectigo"),
    ("COMODO CA Limited", "sectigo"),
    ("Amazon", "amazon-trust-services"),
    ("Microsoft Corporation", "microsoft-pki"),
    ("GlobalSign nv-sa", "globalsign"),
    ("GoDaddy.com, Inc.", "godaddy"),
    ("Starfield Technologies, Inc.", "godaddy"),
    ("Cloudflare, Inc.", "cloudflare"),
    ("CLOUDFLARE, INC.", "cloudflare"),  # Cloudflare TLS Issuing ECC CA 1 spells it so
    ("SSL Corporation", "ssl-com"),
    ("Buypass AS-983163327", "buypass"),
    ("Hellenic Academic and Research Institutions CA", "harica"),
    ("TrustAsia Technologies, Inc.", "trustasia"),
    ("Apple Inc.", "apple-pki"),
    # whole-string comparison: neither a part nor a superset of a known organisation matches
    ("Let's", None),
    ("Not Let's Encrypt", None),
    ("DigiCert", None),
    ("Amazon.com, Inc.", None),
    ("Internet Security Research Group", None),  # ISRG's roots never issue a site certificate
    ("", None),
    ("   ", None),
    (None, None),
])
def test_match_issuer(org: str | None, expected: str | None) -> None:
    assert registry.load().match_issuer(org) == expected


def test_issuer_orgs_are_stored_normalised() -> None:
    assert registry.normalise_issuer_org("  DigiCert,\n  Inc. ") == "digicert, inc."
    reg = registry.load()
    assert reg.providers["letsencrypt"].issuer_orgs == ("let's encrypt",)
    for p in reg.with_layer("ca"):
        assert all(o == registry.normalise_issuer_org(o) for o in p.issuer_orgs), p.id
    # built from code with raw values, the lookup still normalises
    reg = _build(_provider("a", layers=("ca",), issuer_orgs=("Example  CA, Inc.",)))
    assert reg.match_issuer("example ca, INC.") == "a"


def test_an_issuer_org_claimed_twice_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="issuer organisation 'example ca' is claimed by both 'a' and 'b'"):
        _build(_provider("a", layers=("ca",), issuer_orgs=("Example CA",)),
               _provider("b", layers=("ca",), issuer_orgs=("EXAMPLE   ca",)))
    text = datasets.path("providers.toml").read_text()
    text += '\n[[provider]]\nid = "copycat"\nlayers = ["ca"]\nissuer_orgs = ["let\'s  ENCRYPT"]\n'
    p = tmp_path / "providers.toml"
    p.write_text(text)
    with pytest.raises(RegistryError, match="claimed by both 'letsencrypt' and 'copycat'"):
        registry.load(p)


def test_issuer_orgs_and_the_ca_layer_go_together(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="has issuer_orgs but does not serve the ca layer"):
        _build(_provider("a", layers=("cdn",), issuer_orgs=("Example CA",)))
    with pytest.raises(RegistryError, match="serves the ca layer but has no issuer_orgs"):
        _build(_provider("a", layers=("cdn", "ca")))
    reg = _build(_provider("a", layers=("cdn", "ca"), issuer_orgs=("Example CA",)))
    assert reg.match_issuer("Example CA") == "a"
    p = tmp_path / "providers.toml"
    for body, error in (('layers = ["ca"]\nissuer_orgs = [""]\n', "non-empty string"),
                        ('layers = ["ca"]\nissuer_orgs = [42]\n', "non-empty string"),
                        ('layers = ["ca"]\n', "no issuer_orgs"),
                        ('layers = ["hosting"]\nissuer_orgs = ["Example CA"]\n', "does not serve the ca layer")):
        p.write_text(f'[[provider]]\nid = "a"\n{body}')
        with pytest.raises(RegistryError, match=error):
            registry.load(p)
