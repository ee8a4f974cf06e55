"""Resolver selection: resolv.conf and --resolver HOST[:PORT]."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.dns import InvalidResolver, parse_resolver, system_nameservers


def test_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# generated\nsearch example\nnameserver 10.0.0.2\nnameserver ns.example\n"
        "nameserver 2001:DB8::53 # comment\noptions ndots:2\n"
    )
    assert system_nameservers(conf) == [("10.0.0.2", 53), ("2001:db8::53", 53)]


def test_resolv_conf_missing_or_empty(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("search x\n")
    assert system_nameservers(tmp_path / "empty") == [("127.0.0.1", 53)]
    assert system_nameservers(tmp_path / "missing") == [("127.0.0.1", 53)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:53", ("::1", 53)),
        ("[2001:DB8::1]", ("2001:db8::1", 53)),
        ("::1", ("::1", 53)),
        (" 10.1.2.3:65535 ", ("10.1.2.3", 65535)),
    ],
)
def test_parse_resolver(text: str, expected: tuple[str, int]) -> None:
    assert parse_resolver(text) == expected


@pytest.mark.parametrize(
    "text",
    ["dns.example", "dns.example:53", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:x",
     "[::1", "[::1]x", "[::1]:", "[127.0.0.1]:53", "", "1.2.3.4:"],
)  # fmt: skip
def test_bad_resolvers(text: str) -> None:
    with pytest.raises(InvalidResolver):
        parse_resolver(text)
