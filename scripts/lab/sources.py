"""The real data a lab world is built from: providers' published ranges at the world's date,
and small real ASes with their prefixes from a RIB-derived pyasn database.

:func:`build_inventory` turns them into address pools: one per registry provider (from its
published ranges, the feeds it claims in the registry's ``range_feeds``; for providers that
publish none, from the prefixes its registry ASNs originated in the RIB), and one per long-tail
hoster (a real small AS that no registry provider claims). A service provider of the registry
(``cloudfront``, ``route53``: a ``parent`` and no ASNs of its own) draws from its network
provider's published ranges for that service where the feed names services (CLOUDFRONT,
AzureFrontDoor), else from its parent's pool: its addresses always belong to the network
provider, as attribution sees them. All pools are overlap-free across owners (see
:class:`~scripts.lab.addresses.PrefixIndex`).
"""

from __future__ import annotations

import gzip
import logging
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crawler.ranges import RangeVersion, nearest_versions
from crawler.registry import Registry
from scripts.lab.addresses import RESERVED_OWNER, Block, Pool, PrefixIndex, parse_prefix
from scripts.lab.naming import hoster_name

logger = logging.getLogger(__name__)

RANGES_DIR = "provider_ranges"
RIB_FILE = "ip2asn/pyasn/ipasn_20140513.dat.gz"
#: blocks per pool and IP version
POOL_SIZE = {4: 48, 6: 16}
#: registry provider -> (the network provider whose feed holds its addresses, the services
#: of that feed they come from), where the feed names services
SERVICE_RANGES: dict[str, tuple[str, frozenset[str]]] = {
    "aws": ("aws", frozenset({"EC2"})),
    "cloudfront": ("aws", frozenset({"CLOUDFRONT"})),
    "route53": ("aws", frozenset({"ROUTE53"})),
    "microsoft": ("microsoft", frozenset({"AzureCloud", "AzureAppService"})),
    "azure-front-door": ("microsoft", frozenset({"AzureFrontDoor"})),
}
#: long-tail ASes: how many prefixes they announce, and of what lengths
_SMALL_AS_PREFIXES = range(1, 9)
_SMALL_AS_PLEN = range(16, 25)


def _depth(parents: dict[str, str], provider: str) -> int:
    depth = 0
    while provider in parents:
        provider, depth = parents[provider], depth + 1
    return depth


def _reserved_asn(asn: int) -> bool:
    return asn in (0, 23456) or 64496 <= asn <= 131071 or asn >= 4_200_000_000


@dataclass(slots=True)
class Hoster:
    """A long-tail hosting company: a real small AS and a made-up domain for its servers."""

    asn: int
    domain: str
    pool: Pool


@dataclass(slots=True)
class Inventory:
    """Everything a world draws addresses from, and where it came from."""

    pools: dict[str, Pool]
    service_pools: dict[str, Pool]
    hosters: list[Hoster]
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    rib: str = ""
    parents: dict[str, str] = field(default_factory=dict)
    #: BYOIP: a /24 of a provider's published range, announced by a customer's own AS
    byoip: list[Pool] = field(default_factory=list)
    #: space the world's RIB does not announce: only RDAP names it ("org:<slug>" owners)
    unrouted: list[tuple[Pool, str]] = field(default_factory=list)

    def pool(self, provider: str) -> Pool:
        """The addresses *provider*'s hosts get: its service's ranges, its own, or its parent's.

        :raises KeyError: when neither it nor any parent has a pool.
        """
        node: str | None = provider
        while node is not None:
            found = self.service_pools.get(node) or self.pools.get(node)
            if found is not None:
                return found
            node = self.parents.get(node)
        raise KeyError(provider)

    def has_pool(self, provider: str) -> bool:
        """True when :meth:`pool` finds IPv4 addresses for *provider*."""
        try:
            return bool(self.pool(provider).v4)
        except KeyError:
            return False

    def blocks(self) -> list[Block]:
        """Every block of every pool, once, sorted by version and address."""
        seen: dict[tuple[int, int, int], Block] = {}
        pools = [
            *self.pools.values(),
            *self.service_pools.values(),
            *(h.pool for h in self.hosters),
            *self.byoip,
            *(pool for pool, _ in self.unrouted),
        ]
        for pool in pools:
            for block in (*pool.v4, *pool.v6):
                seen.setdefault((block.version, block.start, block.plen), block)
        return [seen[k] for k in sorted(seen)]


def read_rib(path: Path) -> dict[int, list[str]]:
    """Read a pyasn ``.dat[.gz]`` file: ASN -> the prefixes it originates (file order)."""
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("ascii")
    by_asn: dict[int, list[str]] = defaultdict(list)
    for line in text.splitlines():
        if line and line[0] != ";":
            prefix, _, asn = line.partition("\t")
            if asn.isdigit():
                by_asn[int(asn)].append(prefix)
    return by_asn


Parsed = tuple[int, int, int]


def _parsed(prefixes: Iterable[str]) -> set[Parsed]:
    return {p for p in (parse_prefix(x) for x in prefixes) if p is not None}


def _choose(
    index: PrefixIndex,
    candidates: Iterable[Parsed],
    owner: str,
    asn: int,
    rng: random.Random,
    limit: dict[int, int],
    *,
    register: bool,
) -> Pool:
    """Pick up to *limit* non-overlapping blocks per version from *candidates*, at random."""
    parsed = sorted(set(candidates))
    rng.shuffle(parsed)
    pool = Pool(owner, [], [])
    for version, start, plen in parsed:
        chosen = pool.v4 if version == 4 else pool.v6
        if len(chosen) >= limit[version] or index.conflicts(version, start, plen, owner):
            continue
        chosen.append(Block(version, start, plen, asn, owner))
        if register:
            index.add(version, start, plen, owner)
    return pool


def build_inventory(
    registry: Registry,
    data_dir: Path,
    when: date,
    rng: random.Random,
    *,
    hosters: int,
    taken_domains: set[str],
) -> Inventory:
    """Build the address pools of a world dated *when*.

    :param registry: the provider registry (whose ASNs the long tail must avoid).
    :param data_dir: the shared reference data folder.
    :param when: the world's date: each provider's ranges are the version nearest it.
    :param rng: the world's random generator (consumed deterministically).
    :param hosters: how many long-tail hosters (small real ASes) to create.
    :param taken_domains: names hosters' domains must not collide with (updated in place).
    """
    # feed id -> the registry provider claiming it (range_feeds); it must have an AS to
    # originate the prefixes in the world's pyasn database
    versions: dict[str, list[RangeVersion]] = defaultdict(list)
    for feed, version in sorted(nearest_versions(data_dir / RANGES_DIR, when).items()):
        owner = registry.provider_for_feed(feed)
        if owner is not None and registry.providers[owner].asns:
            versions[owner].append(version)
    index = PrefixIndex()
    by_service: dict[str, dict[str, set[Parsed]]] = {}
    for provider, feeds in sorted(versions.items()):
        services: dict[str, set[Parsed]] = defaultdict(set)
        for version in feeds:
            for row in version.rows():
                parsed = parse_prefix(row.prefix)
                if parsed is not None:
                    services[row.service or ""].add(parsed)
                    index.add(*parsed, provider)
        by_service[provider] = services
    rib = read_rib(data_dir / RIB_FILE)
    claimed = {asn for p in registry.providers.values() for asn in p.asns}
    for asn in sorted(claimed):
        owner = registry.provider_for_asn(asn) or RESERVED_OWNER
        for parsed in _parsed(rib.get(asn, [])):
            index.add(*parsed, owner)
    index.freeze()

    inv = Inventory(
        pools={},
        service_pools={},
        hosters=[],
        rib=RIB_FILE,
        parents={p.id: p.parent for p in registry.providers.values() if p.parent},
    )
    for provider, services in sorted(by_service.items()):
        asn = registry.providers[provider].asns[0]
        everything: set[Parsed] = set().union(*services.values())
        inv.pools[provider] = _choose(
            index, everything, provider, asn, rng, POOL_SIZE, register=False
        )
        for pid, (network, wanted) in sorted(SERVICE_RANGES.items()):
            subset: set[Parsed] = set().union(*(services.get(s, set()) for s in sorted(wanted)))
            if network == provider and pid in registry.providers and subset:
                pool = _choose(index, subset, provider, asn, rng, POOL_SIZE, register=False)
                if pool.v4:
                    inv.service_pools[pid] = pool
        first = versions[provider][0]
        inv.versions[provider] = {
            "date": first.date.isoformat(),
            "format": first.format,
            "files": [str(p.relative_to(data_dir)) for v in versions[provider] for p in v.paths],
        }
    for provider in sorted(set(registry.providers) - set(versions)):
        p = registry.providers[provider]
        if not p.asns:
            continue
        prefixes = _parsed(x for asn in p.asns for x in rib.get(asn, []))
        pool = _choose(index, prefixes, provider, p.asns[0], rng, {4: 4, 6: 0}, register=True)
        if pool.v4:
            inv.pools[provider] = pool
            inv.versions[provider] = {"date": None, "format": "rib", "files": [RIB_FILE]}

    small = sorted(
        asn
        for asn, pfx in rib.items()
        if asn not in claimed
        and not _reserved_asn(asn)
        and len(pfx) in _SMALL_AS_PREFIXES
        and all(int(x.rsplit("/", 1)[1]) in _SMALL_AS_PLEN for x in pfx)
    )
    rng.shuffle(small)
    candidates = iter(small)
    # no address evidence at all, not even up the parent chain (netlify, cloudns): a small
    # AS's space is assigned to it (parents first: their services then share it)
    orphans = sorted(
        (p for p in registry.providers if not inv.has_pool(p)),
        key=lambda p: (_depth(inv.parents, p), p),
    )
    for asn in candidates:
        while orphans and inv.has_pool(orphans[0]):
            orphans.pop(0)
        if len(inv.hosters) >= hosters and not orphans:
            break
        pool = _choose(index, _parsed(rib[asn]), f"as{asn}", asn, rng, {4: 4, 6: 0}, register=True)
        if not pool.v4:
            continue
        if orphans:
            provider = orphans.pop(0)
            asns = registry.providers[provider].asns
            if asns:  # re-originated by the provider's own AS in the world's pyasn db
                blocks = [Block(b.version, b.start, b.plen, asns[0], provider) for b in pool.v4]
                pool = Pool(provider, blocks, [])
            inv.pools[provider] = pool
            inv.versions[provider] = {
                "date": None,
                "format": "assigned",
                "files": [RIB_FILE],
                "from_asn": asn,
            }
            continue
        domain = hoster_name(rng)
        while domain in taken_domains or any(
            registry.match_suffix(kind, f"ns1.{domain}") for kind in ("ns", "mx", "cname")
        ):
            domain = hoster_name(rng)
        taken_domains.add(domain)
        inv.hosters.append(Hoster(asn, domain, pool))
    _add_byoip(inv, versions, candidates)
    _add_unrouted(inv, index, rib, candidates, rng)
    logger.info(
        "inventory: %d provider pools, %d long-tail hosters", len(inv.pools), len(inv.hosters)
    )
    return inv


#: providers whose published ranges lend a /24 to a customer announcing it (BYOIP)
BYOIP_PROVIDERS = ("aws", "google-cloud", "microsoft")
#: an AS number marking a block the world's pyasn database must leave out (unrouted)
UNROUTED_ASN = 0
UNROUTED_ORGS = ("Northwind Data Centers", "Contoso Hosting Cooperative")


def org_provider(org: str) -> str:
    """The provider id attribution gives an RDAP registrant (crawler/sql/address_providers.sql)."""
    return "org:" + re.sub(r"[^a-z0-9]+", "-", org.lower()).strip("-")


def _add_byoip(inv: Inventory, versions: dict[str, list[RangeVersion]], customers: Iterator[int]) -> None:
    """Carve a /24 out of a published block of each BYOIP provider, announced by a customer AS.

    The published range still names the provider (most specific published prefix wins), while
    the RIB says the customer: attribution must prefer the range.
    """
    for provider in BYOIP_PROVIDERS:
        pool = inv.pools.get(provider)
        if pool is None or provider not in versions:
            continue
        block = next((b for b in pool.v4 if b.plen <= 23), None)
        customer = next(customers, None)
        if block is None or customer is None:
            continue
        inv.byoip.append(Pool(provider, [Block(4, block.start + 256, 24, customer, provider)], []))


def _add_unrouted(inv: Inventory, index: PrefixIndex, rib: dict[int, list[str]], spare: Iterator[int],
                  rng: random.Random) -> None:
    """Blocks of small ASes the world does not announce: RDAP is the only evidence of them."""
    for org in UNROUTED_ORGS:
        asn = next(spare, None)
        if asn is None:
            return
        owner = org_provider(org)
        pool = _choose(index, _parsed(rib[asn]), owner, UNROUTED_ASN, rng, {4: 1, 6: 0}, register=True)
        if pool.v4:
            inv.unrouted.append((pool, org))
