"""The provider registry: consistent, sourced, and matching as documented."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import datasets
from crawler import registry

REQUIRED = {"aws", "google", "microsoft", "cloudflare", "akamai", "fastly", "oracle", "alibaba",
            "digitalocean", "hetzner", "ovh", "godaddy"}


def test_bundled_registry_loads_and_has_the_required_providers() -> None:
    reg = registry.load()
    assert set(reg.providers) >= REQUIRED
    assert len(reg.sha256) == 64


def test_every_fact_has_a_source() -> None:
    doc = tomllib.loads(datasets.path("providers.toml").read_text())
    for p in doc["provider"]:
        for facts, source in (("asns", "asns_source"), ("cname_suffixes", "cname_source"),
                              ("ns_suffixes", "ns_source"), ("mx_suffixes", "mx_source")):
            if p.get(facts):
                assert p.get(source, "").startswith("http"), f"{p['id']}: {facts} without {source}"


def test_no_two_providers_claim_one_asn_or_suffix() -> None:
    reg = registry.load()  # build() raises on a clash; check the raw file too
    seen: dict[tuple[str, str], str] = {}
    for p in reg.providers.values():
        for kind, values in (("asn", p.asns), ("cname", p.cname_suffixes), ("ns", p.ns_suffixes),
                             ("mx", p.mx_suffixes)):
            for v in values:
                key = (kind, str(v))
                assert seen.setdefault(key, p.id) == p.id, f"{key} claimed by {seen[key]} and {p.id}"


@pytest.mark.parametrize("field,value", [("asns", "[16509]"), ("ns_suffixes", '["ns.cloudflare.com"]')])
def test_a_clash_is_an_error(tmp_path: Path, field: str, value: str) -> None:
    text = datasets.path("providers.toml").read_text()
    text += f'\n[[provider]]\nid = "copycat"\nname = "Copycat"\n{field} = {value}\n'
    p = tmp_path / "providers.toml"
    p.write_text(text)
    with pytest.raises(registry.RegistryError, match="claimed by both"):
        registry.load(p)


@pytest.mark.parametrize("kind,host,expected", [
    ("ns", "ns-1536.awsdns-00.co.uk", "aws"),
    ("ns", "NS-12.AWSDNS-01.COM.", "aws"),
    ("ns", "kate.ns.cloudflare.com", "cloudflare"),
    ("cname", "d111111abcdef8.cloudfront.net", "aws"),
    ("cname", "e1234.a.akamaiedge.net", "akamai"),
    ("cname", "example.com.cdn.cloudflare.net", "cloudflare"),
    ("mx", "example-com.mail.protection.outlook.com", "microsoft"),
    ("mx", "mx1.example.com", None),
    ("ns", "awsdns-01.com.evil.example", None),
])
def test_suffix_matching(kind: str, host: str, expected: str | None) -> None:
    hit = registry.load().match_suffix(kind, host)
    assert (hit[0] if hit else None) == expected
