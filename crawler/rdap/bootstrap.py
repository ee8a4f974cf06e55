"""Which RIR answers RDAP for an address: a bundled copy of IANA's RDAP bootstrap.

``data/iana_bootstrap.json`` maps every IPv4 /8 and every top-level IPv6 allocation to its
RIR (its ``as_of`` field dates it), so no bootstrap request is ever made. The five RIRs'
public RDAP base URLs are :data:`DEFAULT_SERVERS`.
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any

logger = logging.getLogger(__name__)

BOOTSTRAP_FILE = "iana_bootstrap.json"


class Rir(StrEnum):
    """The five regional internet registries."""

    ARIN = "arin"
    RIPE = "ripe"
    APNIC = "apnic"
    LACNIC = "lacnic"
    AFRINIC = "afrinic"


#: the RIRs' public RDAP base URLs (``<base>ip/<addr>`` is the network query)
DEFAULT_SERVERS: dict[Rir, str] = {
    Rir.ARIN: "https://rdap.arin.net/registry/",
    Rir.RIPE: "https://rdap.db.ripe.net/",
    Rir.APNIC: "https://rdap.apnic.net/",
    Rir.LACNIC: "https://rdap.lacnic.net/rdap/",
    Rir.AFRINIC: "https://rdap.afrinic.net/rdap/",
}


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """Address -> RIR, from sorted, non-overlapping ``(start, end, rir)`` ranges per family."""

    as_of: str
    starts: dict[int, tuple[int, ...]]
    ranges: dict[int, tuple[tuple[int, int, Rir], ...]]

    def rir_for(self, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> Rir | None:
        """The RIR IANA's bootstrap sends ``address`` to, or None (reserved or IANA space)."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        num = int(ip)
        starts = self.starts[ip.version]
        i = bisect.bisect_right(starts, num) - 1
        if i < 0:
            return None
        start, end, rir = self.ranges[ip.version][i]
        return rir if start <= num <= end else None


def from_mapping(doc: dict[str, Any]) -> Bootstrap:
    """Build a :class:`Bootstrap` from the bundled file's shape (``ipv4``/``ipv6``: rir -> cidrs).

    :raises ValueError: on an unknown RIR or overlapping ranges.
    """
    ranges: dict[int, tuple[tuple[int, int, Rir], ...]] = {}
    for family, key in ((4, "ipv4"), (6, "ipv6")):
        rows = []
        for rir, cidrs in doc[key].items():
            for cidr in cidrs:
                net = ipaddress.ip_network(cidr)
                if net.version != family:
                    raise ValueError(f"{cidr} listed under {key}")
                rows.append((int(net.network_address), int(net.broadcast_address), Rir(rir)))
        rows.sort()
        for (_, end, _), (start, _, _) in itertools.pairwise(rows):
            if start <= end:
                raise ValueError(f"overlapping bootstrap ranges in {key}")
        ranges[family] = tuple(rows)
    return Bootstrap(
        as_of=str(doc.get("as_of", "")),
        starts={f: tuple(r[0] for r in rows) for f, rows in ranges.items()},
        ranges=ranges,
    )


@cache
def bundled() -> Bootstrap:
    """The bootstrap shipped with the package (read once)."""
    text = files("crawler.rdap").joinpath("data", BOOTSTRAP_FILE).read_text(encoding="utf-8")
    boot = from_mapping(json.loads(text))
    logger.debug("RDAP bootstrap as of %s", boot.as_of)
    return boot
