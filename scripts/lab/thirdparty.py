"""The third-party hosts lab pages load from: real-looking names (``ajax.googleapis.com``,
``cdnjs.cloudflare.com``, ``static.hotjar.com``) and made-up ones, in popularity order.

Each host either has addresses of its own in one provider's pool (its truth: who those addresses
belong to, registry provider or ``as<N>``) or is a CNAME into a CDN (its truth: the CDNs the chain
names), drawn from the world's inventory like every other name. Hosts whose name a site of the
world (or a registry suffix) could also use are left out, so no name is placed twice.
"""

from __future__ import annotations

import random
from itertools import pairwise

from crawler.attribution import registrable
from crawler.registry import Registry
from scripts.lab import naming
from scripts.lab.addresses import Pool
from scripts.lab.placement import Placer
from scripts.lab.sources import Inventory

# fmt: off
#: (host, "host:<provider>" for addresses in its pool | "cdn:<provider>" for a CNAME chain)
REAL = (
    ("www.googletagmanager.com", "host:google"), ("www.google-analytics.com", "host:google"),
    ("fonts.googleapis.com", "host:google"), ("fonts.gstatic.com", "host:google"),
    ("ajax.googleapis.com", "host:google"), ("cdnjs.cloudflare.com", "host:cloudflare"),
    ("connect.facebook.net", "host:meta"), ("www.gstatic.com", "host:google"),
    ("cdn.jsdelivr.net", "cdn:fastly"), ("pagead2.googlesyndication.com", "host:google"),
    ("static.cloudflareinsights.com", "host:cloudflare"), ("code.jquery.com", "cdn:fastly"),
    ("securepubads.g.doubleclick.net", "host:google"), ("static.hotjar.com", "cdn:cloudfront"),
    ("www.youtube.com", "host:google"), ("js.stripe.com", "host:aws"), ("use.typekit.net", "cdn:akamai"),
    ("kit.fontawesome.com", "cdn:cloudflare"), ("cdn.shopify.com", "cdn:cloudflare"),
    ("maps.googleapis.com", "host:google"), ("snap.licdn.com", "cdn:akamai"),
    ("platform.twitter.com", "cdn:edgio"), ("cdn.cookielaw.org", "cdn:cloudflare"),
    ("stats.wp.com", "host:automattic"), ("s0.wp.com", "host:automattic"), ("i0.wp.com", "host:automattic"),
    ("bat.bing.com", "host:microsoft"), ("www.clarity.ms", "host:microsoft"), ("cdn.segment.com", "cdn:cloudfront"),
    ("js.hs-scripts.com", "cdn:cloudflare"), ("widget.intercom.io", "cdn:cloudfront"),
    ("static.addtoany.com", "cdn:cloudflare"), ("assets.squarespace.com", "cdn:fastly"),
    ("static.wixstatic.com", "cdn:fastly"), ("static.parastorage.com", "cdn:fastly"),
    ("cdn.onesignal.com", "cdn:cloudflare"), ("browser.sentry-cdn.com", "cdn:fastly"),
    ("cdn.ampproject.org", "host:google"), ("player.vimeo.com", "cdn:fastly"), ("yastatic.net", "host:yandex"),
    ("s.pinimg.com", "cdn:akamai"), ("cdn.optimizely.com", "cdn:cloudfront"), ("js.driftt.com", "cdn:cloudfront"),
    ("embed.tawk.to", "cdn:cloudflare"), ("widgets.outbrain.com", "cdn:akamai"),
    ("static.zdassets.com", "cdn:cloudflare"), ("assets.adobedtm.com", "cdn:akamai"),
    ("www.recaptcha.net", "host:google"), ("cdn.userway.org", "cdn:cloudfront"), ("fonts.bunny.net", "cdn:bunny"),
    ("ajax.aspnetcdn.com", "cdn:azure-front-door"), ("js.monitor.azure.com", "cdn:azure-front-door"),
    ("cdn.mxpnl.com", "host:google-cloud"), ("static.klaviyo.com", "cdn:cloudflare"),
    ("cdn.heapanalytics.com", "cdn:cloudfront"), ("analytics.tiktok.com", "cdn:akamai"),
    ("tags.tiqcdn.com", "cdn:akamai"), ("cdn.branch.io", "cdn:cloudfront"), ("js-agent.newrelic.com", "cdn:fastly"),
    ("pbs.twimg.com", "cdn:edgio"), ("cdn.datatables.net", "cdn:cloudflare"), ("unpkg.com", "host:cloudflare"),
    ("img1.wsimg.com", "cdn:akamai"), ("cdn.matomo.cloud", "host:aws"), ("sdk.privacy-center.org", "cdn:cloudfront"),
    ("static.criteo.net", "host:ovh"), ("cdn.embedly.com", "cdn:fastly"), ("cdn.taboola.com", "cdn:akamai"),
    ("c.amazon-adsystem.com", "cdn:cloudfront"), ("s.yimg.com", "cdn:edgio"), ("cdn.tiny.cloud", "cdn:cloudflare"),
    ("app.link", "cdn:cloudfront"), ("cdn.trustpilot.net", "cdn:cloudflare"), ("static.doubleclick.net", "host:google"),
)
_PREFIXES = ("cdn", "static", "js", "widget", "assets", "tags", "pixel", "embed", "media", "api", "sdk", "t")
_WORDS = ("metrics", "ads", "chat", "fonts", "track", "forms", "reviews", "pay", "consent", "maps", "video",
          "push", "search", "social", "insight", "stats", "cdn", "tag", "pixel", "shop")
_TLDS = ("com", "com", "net", "io", "co", "de", "net", "com")
# fmt: on
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
#: first labels a site of the world uses under its own domain
SITE_LABELS = frozenset({"www", "static", "intranet", "ns1", "ns2", "mail"})
P_HOSTER, P_PROVIDER = 0.45, 0.30  # made-up hosts: at a long-tail hoster, a hosting provider, else a CDN


def pool_size(sites: int) -> int:
    """How many third-party hosts a world of *sites* has (100..300)."""
    return min(300, max(100, sites // 10))


class ThirdPartyPool:
    """The world's third-party hosts, their truth and (at the end) their records."""

    def __init__(self, reg: Registry, inv: Inventory, placer: Placer, rng: random.Random, domains: set[str]) -> None:
        self.reg, self.inv, self.placer, self.rng = reg, inv, placer, rng
        self.domains = domains
        self._hoster_domains = {h.domain for h in inv.hosters}
        self.hosts: list[str] = []
        self.providers: dict[str, list[str]] = {}
        self._where: dict[str, tuple[Pool, list[str]]] = {}  # host -> (address pool, CNAME chain)
        self.front: dict[str, str] = {}  # host -> the CDN its CNAME chain starts at
        cdns = placer.pick["cdn"].items
        target = pool_size(len(domains))
        for host, spec in REAL:
            if len(self.hosts) >= target:
                break
            kind, _, provider = spec.partition(":")
            if not self._free(host):
                continue
            if kind == "cdn" and provider in cdns:
                self._add_cdn(host, provider)
            elif kind == "host" and inv.has_pool(provider) and provider in reg.providers:
                self._add_host(host, inv.pool(provider))
            else:  # the registry or the inventory lacks it: a long-tail hoster stands in
                self._add_host(host, rng.choice(inv.hosters).pool if inv.hosters else inv.pool("aws"))
        while len(self.hosts) < target:
            host = self._made_up()
            if not self._free(host):
                continue
            r = rng.random()
            if r < P_HOSTER and inv.hosters:
                self._add_host(host, placer.hosters[placer.pick_hoster.pick(rng)].pool)
            elif r < P_HOSTER + P_PROVIDER:
                self._add_host(host, inv.pool(placer.pick["hosting"].pick(rng)))
            else:
                self._add_cdn(host, placer.pick["cdn"].pick(rng))

    def _made_up(self) -> str:
        rng = self.rng
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        return f"{rng.choice(_PREFIXES)}.{word}{rng.choice(_WORDS)}.{rng.choice(_TLDS)}"

    def _free(self, host: str) -> bool:
        """True when no site, hoster or registry suffix of the world could also name *host*."""
        if host in self.providers or host in self.domains:
            return False
        first, _, parent = host.partition(".")
        if parent in self.domains and first in SITE_LABELS:
            return False
        if any(self.reg.match_suffix(kind, host) for kind in ("cname", "ns", "mx")):
            return False
        return registrable(host) not in self._hoster_domains

    def _add_host(self, host: str, pool: Pool) -> None:
        self.hosts.append(host)
        self.providers[host] = [pool.owner]
        self._where[host] = (pool, [])

    def _add_cdn(self, host: str, cdn: str) -> None:
        tok = naming.token(len(self.domains) + len(self.hosts), self.rng)
        chain = naming.cdn_chain(cdn, self.reg.providers[cdn].cname_suffixes, self.rng, host, tok)
        chain = [n.replace(f"www.{host}.", f"{host}.", 1) for n in chain]
        self.hosts.append(host)
        self.providers[host] = sorted({hit[0] for n in chain if (hit := self.reg.match_suffix("cname", n))})
        self._where[host] = (self.inv.pool(cdn), chain)
        self.front[host] = cdn

    def zone_lines(self) -> list[str]:
        """Every third-party host's records: its addresses, or its chain and the chain's end
        (a CDN edge shared with sites keeps the addresses the sites gave it)."""
        lines: list[str] = []
        done: set[str] = set()
        for host in self.hosts:
            pool, chain = self._where[host]
            names = [host, *chain]
            lines.extend(f"{a}.\tCNAME\t{b}.\n" for a, b in pairwise(names))
            last = names[-1]
            if last in done or last in self.placer.shared:
                continue
            done.add(last)
            v4 = sorted({pool.draw4(self.rng) for _ in range(self.rng.choice((1, 2)))})
            v6 = [a] if pool.v6 and self.rng.random() < 0.5 and (a := pool.draw6(self.rng)) else []
            lines.extend(f"{last}.\tA\t{a}\n" for a in v4)
            lines.extend(f"{last}.\tAAAA\t{a}\n" for a in v6)
        return lines
