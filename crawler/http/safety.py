"""Which addresses the crawler may connect to: global unicast only.

A site's DNS can point anywhere, including at the crawler's own network (loopback, RFC 1918,
cloud metadata at 169.254.169.254). :func:`blocked_reason` is asked before any socket is opened;
the tables here are the whole policy, written out rather than taken from ``ipaddress``'s
``is_private``, whose lists change between Python releases.

IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) are judged by the
address they carry, so ``::ffff:10.0.0.1`` is as private as ``10.0.0.1``.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), reason)
    for net, reason in (
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "reserved"),  # "this network"
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("100.64.0.0/10", "shared"),  # carrier-grade NAT, RFC 6598
        ("169.254.0.0/16", "link-local"),  # includes the cloud metadata address
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # includes the limited broadcast 255.255.255.255
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
        ("192.0.2.0/24", "reserved"),  # documentation, TEST-NET-1
        ("198.51.100.0/24", "reserved"),  # TEST-NET-2
        ("203.0.113.0/24", "reserved"),  # TEST-NET-3
        ("198.18.0.0/15", "reserved"),  # benchmarking
        ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast
    )
)

_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fc00::/7", "private"),  # unique local
        ("fec0::/10", "private"),  # deprecated site-local
        ("fe80::/10", "link-local"),
        ("ff00::/8", "multicast"),
        ("2001:db8::/32", "reserved"),  # documentation
        ("3fff::/20", "reserved"),  # documentation, RFC 9637
        ("2001::/23", "reserved"),  # IETF protocol assignments: benchmarking, ORCHID, ...
        ("5f00::/16", "reserved"),  # SRv6 SIDs
        ("64:ff9b:1::/48", "reserved"),  # local-use NAT64
    )
)
_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
_NAT64 = IPv6Network("64:ff9b::/96")


def blocked_reason(address: str) -> str | None:
    """Why a connection to this IP literal must not be made, or None when it may.

    :param address: an IPv4 or IPv6 literal, as DNS gave it (an IPv6 zone ``%eth0`` is allowed).
    :returns: ``None`` for a global unicast address, else one of ``'invalid'`` (not an IP
        literal), ``'unspecified'``, ``'loopback'``, ``'private'``, ``'shared'`` (100.64/10),
        ``'link-local'``, ``'multicast'`` or ``'reserved'`` (documentation, benchmarking,
        240/4, IPv6 outside 2000::/3, ...).
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return "invalid"
    if isinstance(ip, IPv4Address):
        return _v4_reason(ip)
    return _v6_reason(ip)


def _v4_reason(ip: IPv4Address) -> str | None:
    for net, reason in _V4:
        if ip in net:
            return reason
    return None


def _v6_reason(ip: IPv6Address) -> str | None:
    embedded = _embedded_v4(ip)
    if embedded is not None:
        return _v4_reason(embedded)
    for net, reason in _V6:
        if ip in net:
            return reason
    if ip not in _GLOBAL_UNICAST_V6:
        return "reserved"
    return None


def _embedded_v4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it is one of the translation forms."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client, the host the packets end at
    return None
