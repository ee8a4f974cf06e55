"""Matching addresses to published ranges: version choice, most specific prefix, AWS services."""

from __future__ import annotations

import ipaddress
import json
import random
from datetime import date
from pathlib import Path

import duckdb
import pytest

from chokepoints import db
from chokepoints.errors import UserError
from crawler.ranges.match import match_addresses, match_snapshot, select_versions
from crawler.ranges.store import load_feed_file, load_folder
from tests.ranges.helpers import aws_json, cidr_list


def add_addresses(con: duckdb.DuckDBPyConnection, snapshot_id: int, ips: list[str]) -> None:
    addrs = [ipaddress.ip_address(ip) for ip in ips]
    db.append(con, "ip_origins", {
        "snapshot_id": [snapshot_id] * len(addrs),
        "ip": [a.compressed for a in addrs],
        "family": [a.version for a in addrs],
        "ip_num": [str(int(a)) for a in addrs],
    })


def matches(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> dict[str, tuple[str, str, str | None, str | None]]:
    rows = con.execute(
        "select m.ip, f.feed, m.prefix, m.service, m.region from ip_range_matches m"
        " join range_feeds f using (feed_id) where m.snapshot_id = ?", [snapshot_id]
    ).fetchall()
    return {ip: (feed, prefix, service, region) for ip, feed, prefix, service, region in rows}


def test_select_versions_nearest_per_feed_ties_to_the_earlier(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    def load(path: Path) -> int:
        fid = load_feed_file(con, path).feed_id
        assert fid is not None
        return fid

    may1 = load(aws_json(tmp_path / "a" / "ip-ranges.json", [("3.0.0.0/8", "x", "AMAZON")],
                         create="2026-05-01-00-00-00", token="1"))
    may11 = load(aws_json(tmp_path / "b" / "ip-ranges.json", [("3.0.0.0/9", "x", "AMAZON")],
                          create="2026-05-11-00-00-00", token="2"))
    copy = load(cidr_list(tmp_path / "2024-12-31" / "amazon" / "ipv4.txt", ["3.0.0.0/8"]))
    assert select_versions(con, date(2026, 5, 6)) == sorted([may1, copy])     # 5 days either way: the earlier
    assert select_versions(con, date(2026, 5, 7)) == sorted([may11, copy])
    assert select_versions(con, date(2015, 1, 1)) == sorted([may1, copy])
    assert select_versions(con, date(2030, 1, 1)) == sorted([may11, copy])


@pytest.fixture
def feeds(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> list[int]:
    """AWS's own file, a third-party copy of AWS's ranges, and Fastly's list, nested into each other."""
    aws = aws_json(tmp_path / "ip-ranges_2026-05-01.json", [
        ("3.0.0.0/8", "us-east-1", "AMAZON"),
        ("3.5.0.0/16", "us-east-1", "AMAZON"),
        ("3.5.0.0/16", "us-east-1", "EC2"),
        ("3.5.1.0/24", "us-east-1", "AMAZON"),
        ("3.5.1.0/24", "us-east-1", "EC2"),
        ("3.5.1.0/24", "us-east-1", "S3"),
        ("3.6.0.0/16", "GLOBAL", "CLOUDFRONT_ORIGIN_FACING"),
        ("3.6.0.0/16", "GLOBAL", "CLOUDFRONT"),
        ("3.6.0.0/16", "GLOBAL", "AMAZON"),
        ("2600:1f00::/24", "GLOBAL", "AMAZON"),
        ("2600:1f00:1::/48", "eu-west-1", "AMAZON"),
        ("2600:1f00:1::/48", "eu-west-1", "EC2"),
    ])
    copy = cidr_list(tmp_path / "2026-04-30" / "amazon" / "ipv4.txt", ["3.5.0.0/16", "3.7.0.0/24"])
    cidr_list(tmp_path / "2026-04-30" / "amazon" / "ipv6.txt", ["2600:1f00:1:2::/64"])
    fastly = tmp_path / "fastly_2026-05-01.json"
    fastly.write_text(json.dumps({"addresses": ["3.5.1.128/25"], "ipv6_addresses": ["::/16"]}))
    ids = [load_feed_file(con, aws).feed_id, load_folder(con, copy.parent.parent)[0].feed_id,
           load_feed_file(con, fastly).feed_id]
    return [i for i in ids if i is not None]


def test_most_specific_prefix_across_feeds(con: duckdb.DuckDBPyConnection, feeds: list[int]) -> None:
    add_addresses(con, 7, ["3.1.2.3", "3.5.9.9", "3.5.1.5", "3.5.1.200", "3.6.0.1", "3.7.0.9", "8.8.8.8",
                           "2600:1f00:1::5", "2600:1f00:1:2::9", "2600:1f00:ffff::1", "2001:db8::1", "::1"])
    assert match_addresses(con, 7, feeds) == 10
    got = matches(con, 7)
    assert got["3.1.2.3"] == ("aws-ip-ranges", "3.0.0.0/8", "AMAZON", "us-east-1")
    # AWS's AMAZON row and its EC2 row for one prefix: the service, not AMAZON; the provider's
    # own feed over the third-party copy of the same prefix.
    assert got["3.5.9.9"] == ("aws-ip-ranges", "3.5.0.0/16", "EC2", "us-east-1")
    # AMAZON, EC2 and S3 for one prefix: S3 (EC2 is listed as generic after AMAZON).
    assert got["3.5.1.5"] == ("aws-ip-ranges", "3.5.1.0/24", "S3", "us-east-1")
    # Another provider's more specific prefix inside AWS's wins.
    assert got["3.5.1.200"] == ("fastly", "3.5.1.128/25", None, None)
    # Two specific services: alphabetical.
    assert got["3.6.0.1"] == ("aws-ip-ranges", "3.6.0.0/16", "CLOUDFRONT", "GLOBAL")
    assert got["3.7.0.9"] == ("cidr:amazon", "3.7.0.0/24", None, None)
    assert got["2600:1f00:1::5"] == ("aws-ip-ranges", "2600:1f00:1::/48", "EC2", "eu-west-1")
    assert got["2600:1f00:1:2::9"] == ("cidr:amazon", "2600:1f00:1:2::/64", None, None)
    assert got["2600:1f00:ffff::1"] == ("aws-ip-ranges", "2600:1f00::/24", "AMAZON", "GLOBAL")
    # ::/16 covers every IPv4 address as a number: families never mix.
    assert got["::1"] == ("fastly", "::/16", None, None)
    assert "8.8.8.8" not in got and "2001:db8::1" not in got
    providers = dict(con.execute("select ip, provider from ip_range_matches").fetchall())
    assert providers["3.7.0.9"] == "aws" and providers["3.5.1.200"] == "fastly"
    assert sorted(r[0] for r in con.execute("select feed_id from snapshot_feeds where snapshot_id = 7").fetchall()) \
        == sorted(feeds)


def test_rematching_replaces_the_snapshot_rows(con: duckdb.DuckDBPyConnection, feeds: list[int]) -> None:
    add_addresses(con, 7, ["3.5.1.200", "3.1.2.3"])
    add_addresses(con, 8, ["3.1.2.3"])
    assert match_addresses(con, 7, feeds) == 2
    assert match_addresses(con, 8, feeds) == 1
    assert match_addresses(con, 7, feeds[:1]) == 2
    assert matches(con, 7)["3.5.1.200"][1] == "3.5.1.0/24"
    assert con.execute("select snapshot_id, count(*) from snapshot_feeds group by 1 order by 1").fetchall() \
        == [(7, 1), (8, 3)]
    assert con.execute("select count(*) from ip_range_matches where snapshot_id = 8").fetchall() == [(1,)]
    with pytest.raises(UserError, match="no range feed version 999"):
        match_addresses(con, 7, [999])


def test_match_snapshot_uses_the_snapshot_date(con: duckdb.DuckDBPyConnection, feeds: list[int]) -> None:
    con.execute("insert into snapshots (snapshot_id, list_name, list_date, tool_version, started_at, status)"
                " values (3, 'file', date '2026-05-02', 'test', now()::timestamp, 'complete')")
    add_addresses(con, 3, ["3.5.9.9"])
    result = match_snapshot(con, 3)
    assert result.when == date(2026, 5, 2) and sorted(result.feed_ids) == sorted(feeds) and result.matches == 1


def _reference(numeric: list[tuple[int, int, int, int, str]], ip: str) -> str | None:
    """Brute force: the longest prefix holding *ip*, by integer comparison over every prefix."""
    addr = ipaddress.ip_address(ip)
    n = int(addr)
    best: tuple[int, str] | None = None
    for version, first, last, plen, text in numeric:
        if version == addr.version and first <= n <= last and (best is None or plen > best[0]):
            best = (plen, text)
    return best[1] if best else None


def _numeric(prefixes: list[tuple[str, str]]) -> list[tuple[int, int, int, int, str]]:
    nets = [(ipaddress.ip_network(text), text) for _, text in prefixes]
    return [(n.version, int(n.network_address), int(n.broadcast_address), n.prefixlen, t) for n, t in nets]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_a_brute_force_reference(con: duckdb.DuckDBPyConnection, tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    edge = ["0.0.0.0/1", "255.255.255.0/24", "255.255.255.255/32", "ffff::/16",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"]
    seen: set[str] = set()
    prefixes: list[tuple[str, str]] = []
    for i in range(400):
        if rnd.random() < 0.7:
            base, plen = (198 << 24) + rnd.randrange(1 << 18), rnd.randrange(14, 33)
            text = str(ipaddress.ip_network((base >> (32 - plen) << (32 - plen), plen)))
        else:
            base6, plen6 = (0x2001 << 112) + rnd.randrange(1 << 20) * (1 << 92), rnd.randrange(16, 129)
            text = str(ipaddress.ip_network((base6 >> (128 - plen6) << (128 - plen6), plen6)))
        if text not in seen:
            seen.add(text)
            prefixes.append((("amazon", "microsoft", "google")[i % 3], text))
    prefixes += [("google", p) for p in edge]
    for name in ("amazon", "microsoft", "google"):
        own = [p for n, p in prefixes if n == name]
        cidr_list(tmp_path / "2026-01-01" / name / "ipv4.txt", [p for p in own if ":" not in p])
        cidr_list(tmp_path / "2026-01-01" / name / "ipv6.txt", [p for p in own if ":" in p])
    ids = [r.feed_id for r in load_folder(con, tmp_path)]
    ips: set[str] = set()
    for _, text in prefixes:
        net = ipaddress.ip_network(text)
        first, last = int(net.network_address), int(net.broadcast_address)
        top = (1 << net.max_prefixlen) - 1
        for n in (first, last, first - 1, last + 1, rnd.randint(first, last)):
            if 0 <= n <= top:
                ips.add(str(ipaddress.ip_address(n) if net.version == 6 else ipaddress.IPv4Address(n)))
    add_addresses(con, 1, sorted(ips))
    match_addresses(con, 1, [i for i in ids if i is not None])
    got = {ip: m[1] for ip, m in matches(con, 1).items()}
    numeric = _numeric(prefixes)
    want = {ip: ref for ip in ips if (ref := _reference(numeric, ip)) is not None}
    assert len(want) > len(prefixes)
    assert got == {ipaddress.ip_address(ip).compressed: p for ip, p in want.items()}
