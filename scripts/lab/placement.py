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

Providers are registry ids at the service level: a site on Route 53 name servers depends on
``route53`` (dns), one behind a CloudFront CNAME on ``cloudfront`` (cdn) and, through the
addresses CloudFront's published ranges give its edge, on ``aws`` (hosting). Only providers
whose real naming the lab knows (:mod:`scripts.lab.naming`) are placed in a layer.

Besides the plain cases, some sites are stacked or mixed (each counted in ``SiteRecords.cases``):
a CNAME chain through two CDNs (both in the truth), IPv6-only web addresses (AAAA, no A), the
apex at an origin host while www goes through a CDN (two hosting providers), name servers split
over two providers, a backup MX at a second mail provider, and private name servers and mail.
"""

from __future__ import annotations

import random
import re
from bisect import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate, pairwise

from crawler.registry import Registry
from crawler.toplists import normalise_domain
from scripts.lab import naming
from scripts.lab.addresses import Pool
from scripts.lab.sources import Hoster, Inventory

# Registry providers in rough order of real market size per layer (Zipf rank); other providers
# of the layer whose naming the lab knows join at the end, sorted.
# fmt: off
HOSTING_ORDER = (
    "aws", "cloudflare", "google-cloud", "microsoft", "digitalocean", "hetzner", "ovh", "akamai",
    "godaddy", "linode", "alibaba", "fastly", "newfold", "google", "tencent", "vultr", "oracle",
    "ionos", "hostinger", "squarespace", "wix", "shopify", "automattic", "github", "leaseweb",
    "huawei-cloud", "scaleway", "contabo", "ibm-cloud", "rackspace", "dreamhost",
)
CDN_ORDER = (
    "cloudflare", "akamai", "cloudfront", "fastly", "azure-front-door", "imperva", "vercel",
    "netlify", "alibaba", "tencent", "stackpath", "edgio", "bunny", "sucuri", "gcore", "cdn77",
    "limelight", "cachefly", "keycdn", "cdnetworks", "wangsu", "huawei-cloud", "fly",
)
DNS_ORDER = (
    "cloudflare", "route53", "godaddy", "akamai-edge-dns", "google-cloud", "azure-dns", "ns1",
    "ultradns", "dyn", "namecheap", "ovh", "alibaba-dns", "dnspod", "digitalocean",
    "dnsmadeeasy", "newfold", "ionos", "hostinger", "hetzner", "gandi", "wix", "automattic",
    "linode", "yandex", "vercel", "dnsimple", "cloudns", "network-solutions", "dreamhost",
    "hurricane-electric", "rackspace", "easydns", "porkbun", "vultr", "oracle-dns",
)
MAIL_ORDER = (
    "google-workspace", "microsoft-365", "proofpoint", "mimecast", "zoho", "yandex",
    "tencent-exmail", "alibaba-mail", "ovh", "godaddy", "ionos", "namecheap", "barracuda",
    "cisco-secure-email", "hostinger", "gandi", "cloudflare", "amazon-ses", "fastmail",
    "proton", "rackspace", "hetzner", "apple", "mailgun", "dreamhost", "sendgrid",
)
# fmt: on
ZIPF = {"hosting": 1.0, "cdn": 1.3, "dns": 1.0, "email": 1.2}

P_ABSENT = 0.01  # on the list, not in the world (NXDOMAIN)
P_NO_WWW = 0.03
P_CDN = 0.35
P_LONGTAIL_HOSTING = 0.25 / (1 - P_CDN)  # 25% of all sites
P_AAAA = 0.30
P_V6_ONLY = 0.015  # web addresses AAAA only (where the pool has IPv6)
P_CDN_STACK = 0.06  # of CDN sites: www -> CDN 1 -> CDN 2
P_APEX_ORIGIN = 0.08  # of CDN sites: the apex at an origin host, not at the CDN
P_DNS_PRIVATE, P_DNS_LONGTAIL, P_DNS_SPLIT = 0.05, 0.10, 0.05
P_MX, P_MX_PRIVATE, P_MX_LONGTAIL = 0.80, 0.10, 0.08
P_MX_BACKUP = 0.04  # of provider MX: a backup MX at a second provider
P_WWW_TO_APEX = 0.30  # www CNAME <apex>, no CDN
P_BYOIP = 0.01  # of origin hosts: a provider's range announced by the customer's AS
P_UNROUTED = 0.005  # of origin hosts: space no route announces (named by RDAP only)
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
    cases: list[str] = field(default_factory=list)  # the stacked/mixed cases it shows
    # for the web plan (scripts.lab.webplan): the CDNs of www's CNAME chain (front first), who
    # the apex's addresses belong to, whether the apex is at an origin while www is at a CDN,
    # what www is ("none", "cdn", "cname" to the apex, "same" addresses), a provider's own domain
    cdns: list[str] = field(default_factory=list)
    apex_owner: str = ""
    apex_origin: bool = False
    www: str = "none"
    owned: bool = False


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

        def placeable(layer: str, known: Iterable[str]) -> set[str]:
            return {p for p in known if layer in provs[p].layers and inventory.has_pool(p)}

        # hosting: providers with addresses of their own (published ranges or the RIB)
        hosting = {
            p
            for p, pool in inventory.pools.items()
            if pool.v4
            and p in provs
            and "hosting" in provs[p].layers
            and inventory.versions[p]["format"] != "assigned"
        }
        self.pick = {
            "hosting": Picker.zipf(_ordered(HOSTING_ORDER, hosting), ZIPF["hosting"]),
            "cdn": Picker.zipf(
                _ordered(CDN_ORDER, placeable("cdn", naming.CDN_TEMPLATES)), ZIPF["cdn"]
            ),
            "dns": Picker.zipf(
                _ordered(DNS_ORDER, placeable("dns", naming.NS_TEMPLATES)), ZIPF["dns"]
            ),
            "email": Picker.zipf(
                _ordered(MAIL_ORDER, placeable("email", naming.MX_TEMPLATES)), ZIPF["email"]
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

    def _addresses(
        self, pool: Pool, n4: int, p6: float, *, v6_only: bool = False
    ) -> tuple[list[str], list[str]]:
        """*n4* IPv4 addresses and, with probability *p6*, one IPv6 one; or *n4* IPv6 only."""
        rng = self.rng
        if v6_only:
            return [], sorted({a for _ in range(n4) if (a := pool.draw6(rng))})
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
        if owner is None:  # no address evidence: the host's registrable domain names it
            return normalise_domain(host)
        return owner

    # -- one site --------------------------------------------------------------------------

    def _origin(self) -> tuple[Pool, Hoster | None]:
        """A web host's pool outside any CDN: a long-tail hoster or a hosting provider (a few
        in BYOIP space, a few in unrouted space)."""
        special = self.rng.random()
        if self.inv.unrouted and special < P_UNROUTED:
            return self.rng.choice(self.inv.unrouted)[0], None
        if self.inv.byoip and special < P_UNROUTED + P_BYOIP:
            return self.rng.choice(self.inv.byoip), None
        if self.rng.random() < P_LONGTAIL_HOSTING:
            hoster = self.hosters[self.pick_hoster.pick(self.rng)]
            return hoster.pool, hoster
        return self.inv.pool(self.pick["hosting"].pick(self.rng)), None

    def _cdns(self, domain: str, tok: str, out: SiteRecords) -> tuple[list[str], list[str]]:
        """The CDN(s) fronting www and the CNAME chain behind it (two CDNs when stacked)."""
        rng = self.rng
        first = self.pick["cdn"].pick(rng)
        chain = naming.cdn_chain(first, self.reg.providers[first].cname_suffixes, rng, domain, tok)
        if rng.random() >= P_CDN_STACK or len(self.pick["cdn"].items) < 2:
            return [first], chain
        # the first CDN's own hops must be the site's: a shared last hop cannot CNAME onwards
        front = chain[:-1] if first in naming.SHARED_LAST_HOP else chain
        if not front:
            return [first], chain
        second = self.pick["cdn"].pick(rng)
        while second == first:
            second = self.pick["cdn"].pick(rng)
        back = naming.cdn_chain(second, self.reg.providers[second].cname_suffixes, rng, domain, tok)
        out.cases.append("cdn_stack")
        return [first, second], [*front, *back]

    def place(self, index: int, domain: str) -> SiteRecords | None:
        """Place the site at list position *index*; ``None`` when it is absent from the world."""
        rng = self.rng
        owned = self.provider_owned(domain)
        if not owned and rng.random() < P_ABSENT:
            return None
        out = SiteRecords()
        tok = naming.token(index, rng)
        has_www = rng.random() >= P_NO_WWW
        v6_only = rng.random() < P_V6_ONLY
        cdns: list[str] = []
        hoster: Hoster | None = None
        if has_www and rng.random() < P_CDN:
            cdns, chain = self._cdns(domain, tok, out)
            host_pool = self.inv.pool(cdns[-1])
        else:
            chain = []
            host_pool, hoster = self._origin()
            if host_pool in self.inv.byoip:
                out.cases.append("byoip")
            elif any(host_pool is pool for pool, _ in self.inv.unrouted):
                out.cases.append("unrouted")
        hosting = [host_pool.owner]
        out.cdns, out.apex_owner, out.owned = list(cdns), host_pool.owner, owned

        # web: apex, www, CDN chain
        if cdns:
            names = [f"www.{domain}", *chain]
            out.zone.extend(f"{a}.\tCNAME\t{b}.\n" for a, b in pairwise(names))
            last = chain[-1]
            apex_origin = rng.random() < P_APEX_ORIGIN
            if cdns[-1] in naming.SHARED_LAST_HOP:
                self._host(last, host_pool, None)
                v4, v6, _ = self.shared[last]
            else:
                v6_only = v6_only and bool(host_pool.v6) and not apex_origin
                v4, v6 = self._addresses(host_pool, 2, P_AAAA, v6_only=v6_only)
                out.zone.extend(_addr_lines(last, v4, v6))
            if apex_origin:  # apex records cannot be CNAMEs: the apex stays at the origin
                origin, _ = self._origin()
                a4, a6 = self._addresses(origin, 1, P_AAAA)
                out.zone.extend(_addr_lines(domain, a4, a6))
                if origin.owner not in hosting:
                    hosting.append(origin.owner)
                out.cases.append("apex_origin")
                out.apex_origin, out.apex_owner = True, origin.owner
            else:
                out.zone.extend(_addr_lines(domain, v4, v6))
            cdn_truth = {hit[0] for n in chain if (hit := self.reg.match_suffix("cname", n))}
            out.www = "cdn"
        else:
            v6_only = v6_only and bool(host_pool.v6)
            n = 1 if rng.random() < 0.7 else 2
            v4, v6 = self._addresses(host_pool, n, P_AAAA, v6_only=v6_only)
            out.zone.extend(_addr_lines(domain, v4, v6))
            if has_www and not owned and rng.random() < P_WWW_TO_APEX:
                out.zone.append(f"www.{domain}.\tCNAME\t{domain}.\n")
                out.www = "cname"
            elif has_www:
                out.zone.extend(_addr_lines(f"www.{domain}", v4, v6))
                out.www = "same"
            cdn_truth = set()
        if not v4:
            out.cases.append("v6_only")
        out.truth.extend(("hosting", p) for p in hosting)

        # dns
        ns_hosts, dns_truth = self._place_dns(
            domain, owned, cdns[0] if cdns else None, hoster, host_pool, out
        )
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
                out.cases.append("dns_split")
            for provider in providers:
                names = self._ns_set(provider)
                pool = self.inv.pool(provider)
                for name in names[:2] if len(providers) > 1 else names:
                    hosts.append((name, self._host(name, pool, None)))
        if r < private:
            out.cases.append("dns_private")
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
        owners: dict[str, str] = {}  # MX host -> who its addresses belong to (long-tail hosts)
        if r < P_MX_PRIVATE and not owned:
            mx = [(10, f"mail.{domain}")]
            self._host(mx[0][1], host_pool, out)
            out.cases.append("mx_private")
        elif r < P_MX_PRIVATE + P_MX_LONGTAIL:
            h = self.hosters[self.pick_hoster.pick(rng)]
            mx = [(10, f"mx1.{h.domain}"), (20, f"mx2.{h.domain}")]
            for _, name in mx:
                owners[name] = self._host(name, h.pool, None)
        else:
            provider = self.pick["email"].pick(rng)
            mx = self._provider_mx(provider, domain, index, out)
            if rng.random() < P_MX_BACKUP and len(self.pick["email"].items) > 1:
                backup = self.pick["email"].pick(rng)
                while backup == provider:
                    backup = self.pick["email"].pick(rng)
                mx += [(pref + 100, name) for pref, name in self._provider_mx(backup, domain, index, out)]
                out.cases.append("mx_backup")
        out.zone.extend(f"{domain}.\tMX\t{pref} {name}.\n" for pref, name in mx)
        truth: list[str] = []
        for _, name in mx:
            p = self._classify("mx", name, domain, owners.get(name))
            if p not in truth:
                truth.append(p)
        return truth

    def _provider_mx(
        self, provider: str, domain: str, index: int, out: SiteRecords
    ) -> list[tuple[int, str]]:
        """The MX set of *domain* at mail *provider*, its hosts given addresses."""
        label = (
            self._dashed_label(domain) if provider == "microsoft-365" else f"{index + 100000:08d}"
        )
        mx = naming.mx_names(
            provider, self.reg.providers[provider].mx_suffixes, self.rng, domain, label
        )
        pool = self.inv.pool(provider)
        per_site = provider in naming.PER_SITE_MX
        for _, name in mx:
            self._host(name, pool, out if per_site else None)
        return mx

    def shared_lines(self) -> list[str]:
        """Zone lines for every shared host (name servers, mail exchangers, CDN edges)."""
        lines: list[str] = []
        for name in sorted(self.shared):
            v4, v6, _ = self.shared[name]
            lines.extend(_addr_lines(name, v4, v6))
        return lines


def _addr_lines(name: str, v4: list[str], v6: list[str]) -> list[str]:
    return [f"{name}.\tA\t{a}\n" for a in v4] + [f"{name}.\tAAAA\t{a}\n" for a in v6]
