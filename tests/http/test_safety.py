"""blocked_reason: global unicast passes, everything else is named, embedded IPv4 judged."""

from __future__ import annotations

import pytest

from crawler.http import blocked_reason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("100.64.1.1", "shared"),
        ("100.127.255.254", "shared"),
        ("169.254.169.254", "link-local"),
        ("169.254.0.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("0.1.2.3", "reserved"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "reserved"),
        ("198.51.100.1", "reserved"),
        ("203.0.113.7", "reserved"),
        ("198.18.0.1", "reserved"),
        ("192.0.0.8", "reserved"),
        ("2001:db8::1", "reserved"),
        ("2001:2::1", "reserved"),
        ("100::1", "reserved"),
        ("::1.2.3.4", "reserved"),  # deprecated IPv4-compatible
        ("4000::1", "reserved"),  # outside 2000::/3
        ("64:ff9b:1::a00:1", "reserved"),  # local-use NAT64
        # IPv6 forms that carry an IPv4 address are judged by it
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::FFFF:a9fe:a9fe", "link-local"),
        ("64:ff9b::10.1.2.3", "private"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:0a00:0001::1", "private"),  # 6to4 of 10.0.0.1
        ("2002:a9fe:a9fe::", "link-local"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),  # Teredo, client 10.0.0.1
        # not addresses
        ("", "invalid"),
        ("example.com", "invalid"),
        ("10.0.0.256", "invalid"),
        ("[::1]", "invalid"),
        ("1.2.3.4:80", "invalid"),
    ],
)
def test_blocked(address: str, reason: str) -> None:
    assert blocked_reason(address) == reason


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "172.32.0.1",  # just past 172.16/12
        "100.128.0.1",  # just past 100.64/10
        "192.169.0.1",
        "2606:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:0808:0808::1",  # 6to4 of 8.8.8.8
        " 8.8.4.4 ",
    ],
)
def test_global_unicast_passes(address: str) -> None:
    assert blocked_reason(address) is None
