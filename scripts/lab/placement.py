"""Placing one site in the lab world: its hosting, CDN, DNS and mail, its DNS records, and
the dependencies a correct attribution would derive from them (the ground truth).

Providers are drawn with a Zipf-like skew (:class:`Picker`): a few big clouds and CDNs, a long
tail of registry providers, and beyond them real small ASes (long-tail hosters). The truth is
not what the placement *meant* but what the rules of DESIGN.md ("Attribution") conclude from
the records written, so the two can never drift apart:

- hosting: the origin AS of the apex/www addresses -> registry provider, else ``as<N>``;
- dns: NS suffix -> registry; NS under the site's own domain -> the site; else the NS
  addresses' AS -> registry or ``as<N>``;
- cdn: a CNAME-chain name's suffix -> registry;
- email: MX suffix -> registry; MX under the site's own domain -> the site; else the MX
  host's registrable domain.
"""

from __future__ import annotations

import random
import re
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate, pairwise

from crawler.registry import Registry
from crawler.toplists import normalise_domain
from scripts.lab import naming
from scripts.lab.addresses import Pool
from scripts.lab.sources import Hoster, Inventory

# Registry providers in rough order of real market size per layer (Zipf rank); providers the
# registry adds later join at the end of their layer's list.
# fmt: off
HOSTING_ORDER = (
    "aws", "cloudflare", "google", "microsoft", "digitalocean", "hetzner", "ovh", "akamai",
    "godaddy", "linode", "alibaba", "fastly", "tencent", "vultr", "oracle",
)
CDN_ORDER = (
    "cloudflare", "akamai", "aws", "fastly", "microsoft", "imperva", "alibaba", "tencent",
    "sucuri",
)
DNS_ORDER = (
    "cloudflare", "aws", "godaddy", "akamai", "google", "microsoft", "ns1", "ultradns",
    "dyn", "namecheap", "ovh", "alibaba", "tencent", "digitalocean", "dnsmadeeasy",
    "hetzner", "gandi", "linode", "yandex", "vultr", "oracle",
)
MAIL_ORDER = (
    "google", "microsoft", "proofpoint", "mimecast", "zoho", "yandex", "tencent", "alibaba",
    "ovh", "godaddy", "namecheap", "gandi", "cloudflare", "aws", "hetzner",
)
# fmt: on
ZIPF = {"hosting": 1.0, "cdn": 1.3, "dns": 1.0, "email": 1.2}

P_ABSENT = 0.01  # on the list, not in the world (NXDOMAIN)
P_NO_WWW = 0.03
P_CDN = 0.35
P_LONGTAIL_HOSTING = 0.25 / (1 - P_CDN)  # 25% of all sites
P_AAAA = 0.30
P_DNS_PRIVATE, P_DNS_LONGTAIL, P_DNS_SPLIT = 0.05, 0.10, 0.05
P_MX, P_MX_PRIVATE, P_MX_LONGTAIL = 0.80, 0.10, 0.08
P_WWW_TO_APEX = 0.30  # www CNAME <apex>, no CDN
NS_SETS = 64  # distinct NS sets per DNS provider
TTL = 3600


class Picker:
    """Draws items with fixed weights (cumulative table + bisect: O(log n) a draw)."""

    def __init__(self, items: list[str], weights: list[float]) -> None:
        if not items:
            raise ValueError("nothing to pick from")
        self.items = items
        self._cum = list(accumulate(weights))

    @classmethod
    def zipf(cls, items: list[str], s: float, shift: float = 0.0) -> Picker:
        """Weights 1/(rank+shift)^s: Zipf (shift 0) or a flatter Zipf-Mandelbrot tail."""
        return cls(items, [1.0 / (k + shift) ** s for k in range(1, len(items) + 1)])

    def pick(self, rng: random.Random) -> str:
        """One item."""
        return self.items[bisect(self._cum, rng.random() * self._cum[-1])]


@dataclass(slots=True)
class SiteRecords:
    """What one site adds to the world."""

    zone: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)
    truth: list[tuple[str, str]] = field(default_factory=list)


def _ordered(order: tuple[str, ...], available: set[str], *, others: bool = True) -> list[str]:
    """*order* restricted to *available*, then (if *others*) the rest of *available*, sorted."""
    rest = sorted(available - set(order)) if others else []
    return [p for p in order if p in available] + rest


class Placer:
    """Places sites one at a time, keeping the shared hosts (name servers, MX, CDN edges)."""

    def __init__(
        self, registry: Registry, inventory: Inventory, rng: random.Random, seed: int, serial: int
    ) -> None:
        self.reg = registry
        self.inv = inventory
        self.rng = rng
        self.seed = seed
        self.serial = serial  # the SOA serial of every site (the world's date)
        provs = registry.providers
        pools = {p for p, pool in inventory.pools.items() if pool.v4}
        real = {p for p in pools if inventory.versions[p]["format"] not in ("rib", "assigned")}
        self.pick = {
            "hosting": Picker.zipf(_ordered(HOSTING_ORDER, real), ZIPF["hosting"]),
            # only real CDNs front sites (a registry CNAME suffix may be a hosting platform)
            "cdn": Picker.zipf(
                _ordered(
                    CDN_ORDER,
                    {p for p in pools if provs[p].cname_suffixes and provs[p].asns},
                    others=False,
                ),
                ZIPF["cdn"],
            ),
            "dns": Picker.zipf(
                _ordered(DNS_ORDER, {p for p in pools if provs[p].ns_suffixes}), ZIPF["dns"]
            ),
            "email": Picker.zipf(
                _ordered(MAIL_ORDER, {p for p in pools if provs[p].mx_suffixes}), ZIPF["email"]
            ),
        }
        self.hosters = {h.domain: h for h in inventory.hosters}
        self.pick_hoster = Picker.zipf([h.domain for h in inventory.hosters], 1.0, shift=10.0)
        self.shared: dict[str, tuple[list[str], list[str], str]] = {}  # name -> (A, AAAA, owner)
        self._ns_sets: dict[tuple[str, int], list[str]] = {}
        self._dashed: set[str] = set()
        self._matches: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._owned_names, self._owned_globs = self._provider_names()

    # -- helpers -------------------------------------------------------------------------

    def _provider_names(self) -> tuple[set[str], list[re.Pattern[str]]]:
        """Registry suffixes and their parent domains: sites there are the providers' own."""
        names: set[str] = set()
        globs: list[re.Pattern[str]] = []
        for p in self.reg.providers.values():
            for suffix in (*p.cname_suffixes, *p.ns_suffixes, *p.mx_suffixes):
                labels = suffix.lower().split(".")
                for i in range(len(labels) - 1):
                    parent = ".".join(labels[i:])
                    if "*" in parent:
                        globs.append(re.compile(re.escape(parent).replace(r"\*", "[a-z0-9-]+")))
                    else:
                        names.add(parent)
        return names, globs

    def provider_owned(self, domain: str) -> bool:
        """True for a registry provider's own domain (``cloudflare.net``, ``awsdns-17.com``).

        Such sites get no private NS/MX (their names could be the provider's shared hosts)
        and are never absent (other names live below them).
        """
        return domain in self._owned_names or any(g.fullmatch(domain) for g in self._owned_globs)

    def _addresses(self, pool: Pool, n4: int, p6: float) -> tuple[list[str], list[str]]:
        rng = self.rng
        v4 = sorted({pool.draw4(rng) for _ in range(n4)})
        v6 = [a for a in [pool.draw6(rng)] if a] if pool.v6 and rng.random() < p6 else []
        return v4, v6

    def _host(self, name: str, pool: Pool, out: SiteRecords | None) -> str:
        """Give *name* addresses from *pool*: once for shared hosts (out None), else in *out*.

        Returns the owner label of the addresses (registry id or ``as<N>``).
        """
        if out is None:
            if name not in self.shared:
                v4, v6 = self._addresses(pool, 1, 0.8)
                self.shared[name] = (v4, v6, pool.owner)
            return self.shared[name][2]
        v4, v6 = self._addresses(pool, 1, 0.5)
        out.zone.extend(_addr_lines(name, v4, v6))
        return pool.owner

    def _ns_set(self, provider: str) -> list[str]:
        k = self.rng.randrange(NS_SETS)
        key = (provider, k)
        if key not in self._ns_sets:
            local = random.Random(f"{self.seed}/ns/{provider}/{k}")
            self._ns_sets[key] = naming.ns_names(
                provider, self.reg.providers[provider].ns_suffixes, local
            )
        return self._ns_sets[key]

    def _dashed_label(self, domain: str) -> str:
        label = domain.replace(".", "-")
        n = 1
        while label in self._dashed:
            label, n = f"{domain.replace('.', '-')}{n:02d}", n + 1
        self._dashed.add(label)
        return label

    def _classify(self, kind: str, host: str, domain: str, owner: str | None) -> str:
        """The provider the attribution rules give for an NS/MX/CNAME host of *domain*."""
        if host in self.shared:  # shared hosts are never under a site's own domain: memoise
            key = (kind, host)
            if key not in self._matches:
                self._matches[key] = self.reg.match_suffix(kind, host)
            hit = self._matches[key]
        else:
            hit = self.reg.match_suffix(kind, host)
        if hit is not None:
            return hit[0]
        if host == domain or host.endswith("." + domain):
            return domain
        if kind == "mx" or owner is None:
            return normalise_domain(host)
        return owner

    # -- one site --------------------------------------------------------------------------

    def place(self, index: int, domain: str) -> SiteRecords | None:
        """Place the site at list position *index*; ``None`` when it is absent from the world."""
        rng = self.rng
        owned = self.provider_owned(domain)
        if not owned and rng.random() < P_ABSENT:
            return None
        out = SiteRecords()
        tok = naming.token(index, rng)
        has_www = rng.random() >= P_NO_WWW
        cdn = self.pick["cdn"].pick(rng) if has_www and rng.random() < P_CDN else None
        hoster: Hoster | None = None
        if cdn is not None:
            host_pool = self.inv.pool(cdn, "cdn")
        elif rng.random() < P_LONGTAIL_HOSTING:
            hoster = self.hosters[self.pick_hoster.pick(rng)]
            host_pool = hoster.pool
        else:
            host_pool = self.inv.pool(self.pick["hosting"].pick(rng), "hosting")

        # web: apex, www, CDN chain
        if cdn is not None:
            chain = naming.cdn_chain(cdn, self.reg.providers[cdn].cname_suffixes, rng, domain, tok)
            names = [f"www.{domain}", *chain]
            out.zone.extend(f"{a}.\tCNAME\t{b}.\n" for a, b in pairwise(names))
            last = chain[-1]
            if cdn in naming.SHARED_LAST_HOP:
                self._host(last, host_pool, None)
                v4, v6, _ = self.shared[last]
            else:
                v4, v6 = self._addresses(host_pool, 2, P_AAAA)
                out.zone.extend(_addr_lines(last, v4, v6))
            out.zone.extend(_addr_lines(domain, v4, v6))
            cdn_truth = {hit[0] for n in chain if (hit := self.reg.match_suffix("cname", n))}
        else:
            v4, v6 = self._addresses(host_pool, 1 if rng.random() < 0.7 else 2, P_AAAA)
            out.zone.extend(_addr_lines(domain, v4, v6))
            if has_www and not owned and rng.random() < P_WWW_TO_APEX:
                out.zone.append(f"www.{domain}.\tCNAME\t{domain}.\n")
            elif has_www:
                out.zone.extend(_addr_lines(f"www.{domain}", v4, v6))
            cdn_truth = set()
        out.truth.append(("hosting", host_pool.owner))

        # dns
        ns_hosts, dns_truth = self._place_dns(domain, owned, cdn, hoster, host_pool, out)
        out.truth.extend(("dns", p) for p in dns_truth)
        out.truth.extend(("cdn", p) for p in sorted(cdn_truth))

        # email
        if rng.random() < P_MX:
            out.truth.extend(
                ("email", p) for p in self._place_mx(domain, owned, index, tok, host_pool, out)
            )

        out.local.append(f'local-zone: "{domain}." typetransparent\n')
        out.local.extend(f'local-data: "{domain}. {TTL} IN NS {h}."\n' for h in ns_hosts)
        out.local.append(
            f'local-data: "{domain}. {TTL} IN SOA {ns_hosts[0]}. hostmaster.{domain}. '
            f'{self.serial} 7200 900 1209600 300"\n'
        )
        return out

    def _place_dns(
        self,
        domain: str,
        owned: bool,
        cdn: str | None,
        hoster: Hoster | None,
        host_pool: Pool,
        out: SiteRecords,
    ) -> tuple[list[str], list[str]]:
        rng = self.rng
        r = rng.random()
        hosts: list[tuple[str, str]] = []  # (name, owner label of its addresses)
        # private name servers live in the site's own (non-CDN) hosting: scaled so that
        # P_DNS_PRIVATE of all sites get them
        private = P_DNS_PRIVATE / (1 - P_CDN) if not owned and cdn is None else 0.0
        if r < private:
            for name in (f"ns1.{domain}", f"ns2.{domain}"):
                hosts.append((name, self._host(name, host_pool, out)))
        elif r < private + P_DNS_LONGTAIL:
            h = (
                hoster
                if hoster is not None and rng.random() < 0.5
                else self.hosters[self.pick_hoster.pick(rng)]
            )
            for name in (f"ns1.{h.domain}", f"ns2.{h.domain}"):
                hosts.append((name, self._host(name, h.pool, None)))
        else:
            providers = [
                cdn if cdn == "cloudflare" and rng.random() < 0.6 else self.pick["dns"].pick(rng)
            ]
            if r < private + P_DNS_LONGTAIL + P_DNS_SPLIT and len(self.pick["dns"].items) > 1:
                second = self.pick["dns"].pick(rng)
                while second == providers[0]:
                    second = self.pick["dns"].pick(rng)
                providers.append(second)
            for provider in providers:
                names = self._ns_set(provider)
                pool = self.inv.pool(provider, "dns")
                for name in names[:2] if len(providers) > 1 else names:
                    hosts.append((name, self._host(name, pool, None)))
        truth: list[str] = []
        for name, owner in hosts:
            p = self._classify("ns", name, domain, owner)
            if p not in truth:
                truth.append(p)
        return [name for name, _ in hosts], truth

    def _place_mx(
        self, domain: str, owned: bool, index: int, tok: str, host_pool: Pool, out: SiteRecords
    ) -> list[str]:
        rng = self.rng
        r = rng.random()
        if r < P_MX_PRIVATE and not owned:
            mx = [(10, f"mail.{domain}")]
            self._host(mx[0][1], host_pool, out)
        elif r < P_MX_PRIVATE + P_MX_LONGTAIL:
            h = self.hosters[self.pick_hoster.pick(rng)]
            mx = [(10, f"mx1.{h.domain}"), (20, f"mx2.{h.domain}")]
            for _, name in mx:
                self._host(name, h.pool, None)
        else:
            provider = self.pick["email"].pick(rng)
            label = (
                self._dashed_label(domain) if provider == "microsoft" else f"{index + 100000:08d}"
            )
            mx = naming.mx_names(
                provider, self.reg.providers[provider].mx_suffixes, rng, domain, label
            )
            pool = self.inv.pool(provider, "email")
            per_site = provider in naming.PER_SITE_MX
            for _, name in mx:
                self._host(name, pool, out if per_site else None)
        out.zone.extend(f"{domain}.\tMX\t{pref} {name}.\n" for pref, name in mx)
        truth: list[str] = []
        for _, name in mx:
            p = self._classify("mx", name, domain, None)
            if p not in truth:
                truth.append(p)
        return truth

    def shared_lines(self) -> list[str]:
        """Zone lines for every shared host (name servers, mail exchangers, CDN edges)."""
        lines: list[str] = []
        for name in sorted(self.shared):
            v4, v6, _ = self.shared[name]
            lines.extend(_addr_lines(name, v4, v6))
        return lines


def _addr_lines(name: str, v4: list[str], v6: list[str]) -> list[str]:
    return [f"{name}.\tA\t{a}\n" for a in v4] + [f"{name}.\tAAAA\t{a}\n" for a in v6]
