"""normalise_domain: registrable domains from names, origins and URLs, and reasons to refuse."""

from __future__ import annotations

import socket

import pytest
import tldextract

from crawler.toplists import PSL_VERSION, normalise_domain
from crawler.toplists.normalise import public_suffix


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("google.com", "google.com"),
        ("www.google.com", "google.com"),
        ("WWW.Google.COM", "google.com"),
        ("mail.google.com", "google.com"),
        ("a.b.c.bbc.co.uk", "bbc.co.uk"),
        ("https://www.example.co.uk", "example.co.uk"),
        ("https://www.Example.co.uk:443/path?q=1#frag", "example.co.uk"),
        ("http://user:pw@shop.example.com:8080/", "example.com"),
        ("//cdn.example.org/x.js", "example.org"),
        ("example.com.", "example.com"),
        ("example.com..", "example.com"),
        ("*.example.com", "example.com"),
        ("*.*.example.com", "example.com"),
        ("  example.com\t", "example.com"),
        ("Bücher.de", "xn--bcher-kva.de"),
        ("www.bücher.de", "xn--bcher-kva.de"),
        ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
        ("xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("ＥＸＡＭＰＬＥ.com", "example.com"),  # UTS-46 maps full-width letters
        ("foo.github.io", "github.io"),  # private PSL section off
        ("d1.cloudfront.net", "cloudfront.net"),
        ("bucket.s3.amazonaws.com", "amazonaws.com"),
        ("data_x.global.ssl.fastly.net", "fastly.net"),  # underscore in a dropped label
        ("www.ck", "www.ck"),  # PSL exception rule !www.ck
        ("a.b.ck", "a.b.ck"),  # wildcard rule *.ck
        ("x.city.kawasaki.jp", "city.kawasaki.jp"),
        ("1password.com", "1password.com"),
    ],
)
def test_accepts(raw: str, expected: str) -> None:
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (".", "empty"),
        ("*.", "empty"),
        ("1.2.3.4", "IP address literal"),
        ("10.0.0.1:80", "IP address literal"),
        ("[2001:db8::1]", "IP address literal"),
        ("2001:db8::1", "IP address literal"),
        ("http://192.168.1.1/admin", "IP address literal"),
        ("example.123", "numeric top-level label"),
        ("x" * 64 + ".com", "label longer than 63"),
        (".".join(["a" * 60] * 5) + ".com", "name longer than 253"),
        ("exa mple.com", "whitespace"),
        ("foo_bar.com", "invalid character '_'"),
        ("foo!bar.com", "invalid character '!'"),
        ("a..b.com", "empty label"),
        ("-bad.com", "hyphen"),
        ("bad-.com", "hyphen"),
        ("co.uk", "is a public suffix"),
        ("com", "is a public suffix"),
        ("xn--p1ai", "is a public suffix"),
        ("localhost", "not under a known public suffix"),
        ("printer.lan", "not under a known public suffix"),
        ("\x00\x01\x02PNG", "control characters"),
        ("caf\ufffd.com", "not valid UTF-8"),
        ("xn--zz.com", "invalid internationalised name"),
        ("a\u200bb.com", "control characters"),
        ("\u0300a.com", "invalid internationalised name"),
        ("example.com:http", "invalid character ':'"),
    ],
)
def test_rejects_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise_domain(raw)


def test_public_suffix() -> None:
    assert public_suffix("www.example.co.uk") == "co.uk"
    assert public_suffix("foo.www.ck") == "ck"
    assert public_suffix("nope.invalidtld") is None


def test_agrees_with_tldextract() -> None:
    """Our set lookup gives what tldextract's own extractor gives on the same snapshot."""
    extract = tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), include_psl_private_domains=False
    )
    names = [
        "www.google.com",
        "a.b.example.co.uk",
        "foo.github.io",
        "x.y.z.nhs.uk",
        "a.b.c.kobe.jp",
        "city.kobe.jp",
        "www.ck",
        "shop.example.com.au",
        "e.gov.br",
        "x.mil.ar",
        "foo.bar.compute.amazonaws.com",
        "deep.sub.domain.example.xn--p1ai",
    ]
    for name in names:
        assert normalise_domain(name) == extract(name).top_domain_under_public_suffix, name


def test_psl_version_names_the_bundled_snapshot() -> None:
    assert PSL_VERSION.startswith("psl 20")
    assert f"tldextract {tldextract.__version__}" in PSL_VERSION
    assert "ICANN" in PSL_VERSION


def test_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("normalisation tried to open a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert normalise_domain("www.example.co.uk") == "example.co.uk"
