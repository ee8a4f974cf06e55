"""Where to send queries: the system's resolvers, or one given as ``--resolver HOST[:PORT]``.

Only IP addresses are accepted: the engine sends raw datagrams, and resolving the resolver's
own name would need a resolver.
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

from crawler.dns.errors import InvalidResolver

logger = logging.getLogger(__name__)

DEFAULT_PORT = 53
FALLBACK = [("127.0.0.1", DEFAULT_PORT)]
"""What glibc uses when resolv.conf names no server."""


def system_nameservers(path: str | Path = "/etc/resolv.conf") -> list[tuple[str, int]]:
    """The ``nameserver`` entries of a resolv.conf, in order, as ``(ip, 53)``.

    Entries that are not IP addresses are skipped; a missing file or one without usable
    entries gives ``[("127.0.0.1", 53)]``, as the C library does.
    """
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        logger.warning("cannot read %s (%s); using 127.0.0.1:53", path, exc)
        return list(FALLBACK)
    servers: list[tuple[str, int]] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                servers.append((ipaddress.ip_address(fields[1]).compressed, DEFAULT_PORT))
            except ValueError:
                logger.warning("ignoring nameserver %r in %s: not an IP address", fields[1], path)
    return servers or list(FALLBACK)


def parse_resolver(text: str) -> tuple[str, int]:
    """Parse ``HOST``, ``HOST:PORT``, ``IPV6`` or ``[IPV6]:PORT`` into ``(ip, port)``.

    :raises InvalidResolver: when the host is not an IP address or the port is not 1..65535.
    """
    text = text.strip()
    port_text = ""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise InvalidResolver(f"bad resolver {text!r}: expected [IPV6]:PORT")
        port_text = rest[1:]
        if rest and not port_text:
            raise InvalidResolver(f"bad resolver {text!r}: empty port")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        if not port_text:
            raise InvalidResolver(f"bad resolver {text!r}: empty port")
    else:  # an IPv4 address without port, or a bare IPv6 address
        host = text
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise InvalidResolver(f"bad resolver {text!r}: {host!r} is not an IP address") from None
    if text.startswith("[") and address.version != 6:
        raise InvalidResolver(f"bad resolver {text!r}: brackets are for IPv6 addresses")
    port = DEFAULT_PORT
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InvalidResolver(f"bad resolver {text!r}: port must be 1..65535")
        port = int(port_text)
    return address.compressed, port
