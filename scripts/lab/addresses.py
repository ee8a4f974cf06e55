"""Address space for the lab: prefixes with owners, overlap checks and address drawing.

Every address in a lab world is drawn from a :class:`Block` (a real prefix with the AS the
world's pyasn database maps it to). :class:`PrefixIndex` keeps the world consistent: a block
is only used when no prefix of another owner (another provider's published ranges, another
AS, reserved space) overlaps it, so the most specific match of any drawn address is always
its own block's AS.
"""

from __future__ import annotations

import ipaddress
import random
import socket
from bisect import bisect_left, insort
from dataclasses import dataclass

from crawler.ranges.model import prefix_ints

#: Special-purpose IPv4 space (RFC 6890 and friends): never drawn from.
RESERVED_V4 = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)
#: IPv6: only global unicast (2000::/3) is used, minus these.
RESERVED_V6 = ("2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20")
_BITS = {4: 32, 6: 128}
#: the shortest prefixes we draw from (a feed's /6 is an error, not a range)
MIN_PREFIXLEN = {4: 8, 6: 19}
RESERVED_OWNER = "reserved"


@dataclass(frozen=True, slots=True)
class Block:
    """A prefix the world draws addresses from, and the AS that originates it.

    :param version: 4 or 6.
    :param start: the network address as an integer.
    :param plen: the prefix length.
    :param asn: the origin AS written to the world's pyasn database.
    :param owner: the provider id (registry id, or ``as<N>`` for the long tail).
    """

    version: int
    start: int
    plen: int
    asn: int
    owner: str

    @property
    def size(self) -> int:
        """Number of addresses in the block."""
        return 1 << (_BITS[self.version] - self.plen)

    @property
    def cidr(self) -> str:
        """The block in CIDR notation."""
        return f"{int_to_ip(self.version, self.start)}/{self.plen}"

    def draw(self, rng: random.Random) -> str:
        """A random address inside the block (not its first or last where it has more)."""
        size = self.size
        offset = rng.randrange(1, size - 1) if size > 2 else rng.randrange(size)
        return int_to_ip(self.version, self.start + offset)


def int_to_ip(version: int, value: int) -> str:
    """Format an integer address."""
    if version == 4:
        return socket.inet_ntoa(value.to_bytes(4, "big"))
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


def parse_prefix(text: str) -> tuple[int, int, int] | None:
    """``"1.2.3.0/24"`` -> (version, start, plen), or ``None`` when it is not a usable prefix."""
    parsed = prefix_ints(text)
    if parsed is None:
        return None
    version, start, plen = parsed
    if plen < MIN_PREFIXLEN[version]:
        return None
    if version == 6 and start >> 125 != 1:  # outside 2000::/3 (plen >= 19 keeps it inside)
        return None
    return parsed


class PrefixIndex:
    """Prefixes with owners, answering: would this prefix overlap someone else's?

    Prefixes either nest or are disjoint, so an overlap is an ancestor (found by looking up
    each shorter prefix of the candidate) or a descendant (found by start address in a sorted
    list). Bulk entries are sorted once (:meth:`freeze`); later ones are inserted in order.
    """

    def __init__(self) -> None:
        self._exact: dict[tuple[int, int, int], str] = {}
        self._bulk: dict[int, list[tuple[int, int, str]]] = {4: [], 6: []}
        self._extra: dict[int, list[tuple[int, int, str]]] = {4: [], 6: []}
        self._frozen = False
        for text in RESERVED_V4 + RESERVED_V6:
            net = ipaddress.ip_network(text)
            self.add(net.version, int(net.network_address), net.prefixlen, RESERVED_OWNER)

    def add(self, version: int, start: int, plen: int, owner: str) -> None:
        """Record a prefix of *owner* (the same prefix for two owners blocks both)."""
        key = (version, start, plen)
        old = self._exact.get(key)
        if old is not None:
            if old != owner:
                self._exact[key] = RESERVED_OWNER
            return
        self._exact[key] = owner
        entry = (start, start + (1 << (_BITS[version] - plen)) - 1, owner)
        if self._frozen:
            insort(self._extra[version], entry)
        else:
            self._bulk[version].append(entry)

    def freeze(self) -> None:
        """Sort the bulk entries; later :meth:`add` calls keep their own sorted list."""
        for entries in self._bulk.values():
            entries.sort()
        self._frozen = True

    def conflicts(self, version: int, start: int, plen: int, owner: str) -> bool:
        """True when a prefix of another owner contains, equals or lies inside this one."""
        if not self._frozen:
            self.freeze()
        bits = _BITS[version]
        exact = self._exact
        for length in range(plen, -1, -1):
            mask = ((1 << length) - 1) << (bits - length)
            other = exact.get((version, start & mask, length))
            if other is not None and other != owner:
                return True
        end = start + (1 << (bits - plen)) - 1
        for entries in (self._bulk[version], self._extra[version]):
            i = bisect_left(entries, (start,))
            while i < len(entries) and entries[i][0] <= end:
                if entries[i][2] != owner:
                    return True
                i += 1
        return False


@dataclass(slots=True)
class Pool:
    """The blocks one provider's addresses are drawn from, per IP version."""

    owner: str
    v4: list[Block]
    v6: list[Block]

    def draw4(self, rng: random.Random) -> str:
        """A random IPv4 address of the pool."""
        return rng.choice(self.v4).draw(rng)

    def draw6(self, rng: random.Random) -> str | None:
        """A random IPv6 address of the pool, or ``None`` when it has no IPv6 blocks."""
        return rng.choice(self.v6).draw(rng) if self.v6 else None
