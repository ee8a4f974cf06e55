"""The lab world's web: what each site's hosts serve over HTTP(S), the third-party hosts its
home page loads, and the truth a correct HTTP crawl derives from them.

:class:`WebPlanner` runs beside :class:`~scripts.lab.placement.Placer`, one site at a time, with
its own random stream (the DNS world is the same with or without it). Per site it writes the
``web.tsv`` lines of its apex and www (:mod:`scripts.lab.web`), a few zone lines (``static.``
and the private ``intranet.`` host), and, like the placement, derives the truth from what it
wrote by following the crawler's rules (:func:`follow`):

- the crawler fetches ``https://<apex>/`` (every apex in the world has an address), robots.txt
  first on each host; a failed first https attempt (handshake refused: TLS_ERROR, certificate
  not verified: TLS_INVALID) falls back once to ``http://``; redirects are followed up to 10
  times; a hop whose host is an IP literal or resolves to a non-public address is BLOCKED;
- ``cdn``: the CNAME chain's CDNs (as ``truth.csv``) plus the providers the registry's header
  fingerprints name on the final response, when the fetch ended in a response (status OK);
- ``ca``: the issuer Organization of each verified leaf on a hop whose host is the site's
  domain or under it (``Registry.match_issuer``, else ``org:<slug>``); robots.txt requests
  are no hops: a site whose robots.txt disallows ``/`` has none;
- ``third_party``: hosts the final page (status OK, a page) references outside the site's
  registrable domain; each host's providers are the CDNs its CNAME chain names, else who its
  addresses belong to.

Cases (``world.json`` ``web.cases``): most sites serve a valid certificate; some are http-only,
some have an expired, wrong-name or untrusted certificate; canonical www (apex -> www) or apex
(www -> apex); http -> https; robots.txt denying ``/`` (to all, or to our agent only); sites whose
addresses are a CDN's with no CNAME (Cloudflare-proxied apex: ``header_cdn``); redirects to a
link-local literal, a private name, loopback; a redirect loop; an off-site redirect; malformed
HTML. Each rare case is forced at a fixed list position (the first suitable site from there on)
so that even a 300-site world shows it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.attribution import org_slug, registrable
from crawler.pages import is_third_party
from crawler.registry import Registry
from scripts.lab.certs import REGIONAL, UNTRUSTED, LabCA
from scripts.lab.placement import Picker, Placer, SiteRecords
from scripts.lab.sources import Inventory
from scripts.lab.thirdparty import ThirdPartyPool
from scripts.lab.web import PLAIN, HostRule, Page, header_profiles, header_providers

#: hosting providers whose addresses are their CDN's edge: a site there gets its headers
HEADER_HOSTED = ("cloudflare", "fastly", "vercel", "netlify", "fly")
P_WWW_CANONICAL, P_WWW_CANONICAL_CDN = 0.35, 0.85
P_STATIC = 0.5
RELATIVE = (0, 1, 2, 3, 4)
THIRD_COUNT_WEIGHTS = (8, 14, 16, 16, 14, 11, 9, 7, 5)  # 0..8 third-party hosts a page
# rare cases: probability per site, taken only by a site that suits the case (about half of
# the sites are plain origins: invalid certificates end up near 1% of all sites)
P_CASE = {
    "http_only": 0.015, "expired": 0.008, "wrong_name": 0.006, "untrusted": 0.006,
    "robots_deny": 0.005, "robots_deny_agent": 0.002, "http_to_https": 0.005, "private_ip": 0.0005,
    "private_name": 0.0005, "loopback": 0.0005, "redirect_loop": 0.0005, "offsite": 0.001,
}
P_MALFORMED, P_REGIONAL = 0.01, 0.004
FORCED = (*P_CASE, "malformed", "regional_ca")
FORCE_START, FORCE_STEP = 5, 13
INVALID_TLS = ("expired", "wrong_name", "untrusted")
PRIVATE_IP_URL = "http://169.254.169.254/latest/meta-data/"
LOOPBACK_URL = "http://127.0.0.1/admin/"
LAYERS = ("cdn", "ca", "third_party")
#: cases whose hosts serve no home page (every request is redirected)
NO_PAGE = frozenset({"private_ip", "private_name", "loopback", "redirect_loop", "offsite"})


@dataclass(slots=True)
class WebSite:
    """What one site adds to the world's web."""

    lines: list[str] = field(default_factory=list)  # web.tsv
    zone: list[str] = field(default_factory=list)
    truth: list[tuple[str, str]] = field(default_factory=list)  # (layer, provider)
    resources: list[str] = field(default_factory=list)  # third-party hosts, sorted
    cases: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Visit:
    """How the crawler's fetch of one site ends (see :func:`follow`)."""

    status: str  # OK | BLOCKED | ROBOTS_DISALLOWED | TOO_MANY_REDIRECTS | TLS_* | NO_HOST
    verified: tuple[tuple[str, str], ...]  # (host, CA key) of each verified leaf
    final: tuple[str, HostRule] | None  # the host and rule of the final response (status OK)


def _literal(host: str) -> bool:
    return host.replace(".", "").isdigit() or ":" in host


def follow(start: str, rules: dict[str, HostRule], private: set[str], max_redirects: int = 10) -> Visit:
    """Follow the crawler's rules from ``https://<start>/`` over *rules* (host -> rule).

    :param private: host names whose addresses are not public (never connected to).
    """
    url, first = f"https://{start}/", True
    verified: list[tuple[str, str]] = []
    for _ in range(max_redirects + 1):
        parts = urlsplit(url)
        scheme, host = parts.scheme, (parts.hostname or "")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if _literal(host) or host in private:
            return Visit("BLOCKED", tuple(verified), None)
        rule = rules.get(host)
        if rule is None:
            return Visit("NO_HOST", tuple(verified), None)
        if rule.robots != "allow":
            return Visit("ROBOTS_DISALLOWED", tuple(verified), None)
        if scheme == "https" and rule.tls != "valid":
            if not first:
                return Visit("TLS_ERROR" if rule.tls == "none" else "TLS_INVALID", tuple(verified), None)
            scheme = "http"  # the one fallback of a first attempt
        elif scheme == "https":
            verified.append((host, rule.ca))
        first = False
        if scheme == "http" and rule.http == "upgrade":
            url = f"https://{host}{path}"
            continue
        redirect = rule.location(path)
        if redirect is not None:
            url = redirect[1]
            continue
        return Visit("OK", tuple(verified), (host, rule))
    return Visit("TOO_MANY_REDIRECTS", tuple(verified), None)


@dataclass(slots=True)
class _Target:
    """A site an off-site redirect may point at: its rules and who its hosts belong to."""

    domain: str
    rules: dict[str, HostRule]
    owners: list[str]


class WebPlanner:
    """Plans each site's web, in list order, beside the placement."""

    def __init__(
        self, reg: Registry, inv: Inventory, placer: Placer, cas: list[LabCA], seed: int, domains: set[str]
    ) -> None:
        self.reg = reg
        self.rng = random.Random(f"{seed}/web")
        self.cas = {ca.key: ca for ca in cas}
        common = [ca.key for ca in cas if ca.key not in (REGIONAL, UNTRUSTED)]
        self.pick_ca = Picker.zipf(common, 1.1)
        self.ca_provider = {ca.key: reg.match_issuer(ca.issuing_org) or org_slug(ca.issuing_org) for ca in cas}
        self.pool = ThirdPartyPool(reg, inv, placer, self.rng, domains)
        self.pick_third = Picker.zipf(self.pool.hosts, 1.0)
        self.plain = sorted(PLAIN)
        self.profiles = header_profiles(reg)
        self.pending = {case: FORCE_START + FORCE_STEP * i for i, case in enumerate(FORCED)}
        self.forced: dict[str, str] = {}  # rare case -> the first site showing it
        self.cases: Counter[str] = Counter()
        self.private_names: list[str] = []
        self.target: _Target | None = None
        self._header_providers: dict[str, set[str]] = {}
        self._registrable: dict[str, str] = {}

    # -- choices -----------------------------------------------------------------------------

    def _profile_providers(self, profile: str) -> set[str]:
        if profile not in self._header_providers:
            self._header_providers[profile] = header_providers(profile, self.reg)
        return self._header_providers[profile]

    def _front_profile(self, front: str) -> str:
        """The headers a CDN's edge sends: its own profile, else a plain one."""
        return front if front in self.profiles else "openresty"

    def _ca(self, site: SiteRecords) -> str:
        rng = self.rng
        front = site.cdns[0] if site.cdns else site.apex_owner
        prefer = {"cloudfront": "amazon-trust-services", "azure-front-door": "microsoft-pki",
                  "cloudflare": "google-trust-services"}.get(front)
        if prefer in self.cas and rng.random() < 0.6:
            return prefer
        return self.pick_ca.pick(rng)

    def _case(self, index: int, site: SiteRecords, plain: bool) -> str | None:
        """The rare case this site shows: a pending forced one it suits, else by chance."""
        origin = not site.cdns and plain  # a plain origin: no CDN, no fingerprinted headers
        www = site.www != "none"
        suits = {
            "http_only": origin, "expired": origin, "wrong_name": origin, "untrusted": origin,
            "robots_deny": origin, "robots_deny_agent": origin, "http_to_https": www,
            "private_ip": origin, "private_name": origin, "loopback": origin,
            "redirect_loop": origin and www, "offsite": origin and self.target is not None,
        }
        if site.owned:
            return None
        for case, position in sorted(self.pending.items(), key=lambda kv: kv[1]):
            if position <= index and suits.get(case, False):
                del self.pending[case]
                return case
        r = self.rng.random()
        for case, p in P_CASE.items():
            if r < p:
                return case if suits[case] else None
            r -= p
        return None

    def _flag(self, index: int, case: str, p: float) -> bool:
        position = self.pending.get(case)
        if position is not None and position <= index:
            del self.pending[case]
            return True
        return self.rng.random() < p

    def _page(self, domain: str, index: int, served: bool) -> Page:
        rng = self.rng
        n = rng.choices(range(len(THIRD_COUNT_WEIGHTS)), THIRD_COUNT_WEIGHTS)[0]
        third: list[str] = []
        for _ in range(n * 3):
            if len(third) >= n:
                break
            host = self.pick_third.pick(rng)
            if host not in third and self._third_party(host, domain):
                third.append(host)
        same = [f"static.{domain}"] if rng.random() < P_STATIC else []
        variant = "malformed" if served and self._flag(index, "malformed", P_MALFORMED) else "ok"
        return Page(variant, tuple(third), tuple(same), rng.choice(RELATIVE))

    # -- one site ----------------------------------------------------------------------------

    def plan(self, index: int, domain: str, site: SiteRecords) -> WebSite:
        """The web of the site at list position *index* placed as *site*."""
        rng, out = self.rng, WebSite()
        www = f"www.{domain}"
        has_www = site.www != "none"
        front = site.cdns[0] if site.cdns else None
        owner_profile = site.apex_owner if site.apex_owner in HEADER_HOSTED else rng.choice(self.plain)
        if front is not None:
            www_profile = self._front_profile(front)
            apex_profile = owner_profile if site.apex_origin else www_profile
        else:
            apex_profile = www_profile = owner_profile
        plain = not self._profile_providers(apex_profile)
        case = self._case(index, site, plain)
        ca = self._ca(site)
        tls = "valid"
        if case == "http_only":
            tls, ca = "none", "-"
        elif case in INVALID_TLS:
            tls = case
            if case == "untrusted":
                ca = UNTRUSTED
        elif REGIONAL in self.cas and self._flag(index, "regional_ca", P_REGIONAL):
            ca = REGIONAL  # a CA the registry does not know, on a certificate that verifies
            out.cases.append("regional_ca")
        canonical_www = has_www and (site.apex_origin or rng.random() < (
            P_WWW_CANONICAL_CDN if front is not None else P_WWW_CANONICAL))
        if tls != "valid" or case in ("robots_deny", "robots_deny_agent", "redirect_loop", "offsite"):
            canonical_www = False
        if case == "http_to_https":
            canonical_www = True
        page = self._page(domain, index, case not in NO_PAGE)
        robots = {"robots_deny": "deny", "robots_deny_agent": "deny-agent"}.get(case or "", "allow")
        http = "upgrade" if tls == "valid" else "serve"

        def rule(host: str, redirect: str, profile: str, serves: bool) -> HostRule:
            return HostRule(host, tls, ca, http, redirect, profile, robots, page.text() if serves else "-")

        apex = rule(domain, f"301 https://{www}" if canonical_www else "-", apex_profile, not canonical_www)
        www_rule = rule(www, "-" if canonical_www else f"301 https://{domain}", www_profile, canonical_www)
        if case == "private_ip":
            apex = rule(domain, f"302 ={PRIVATE_IP_URL}", apex_profile, False)
        elif case == "private_name":
            name = f"intranet.{domain}"
            apex = rule(domain, f"302 =http://{name}/", apex_profile, False)
            out.zone.append(f"{name}.\tA\t10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255 or 1}\n")
            self.private_names.append(name)
        elif case == "loopback":
            apex = rule(domain, f"302 ={LOOPBACK_URL}", apex_profile, False)
        elif case == "redirect_loop":
            apex = rule(domain, f"301 https://{www}", apex_profile, False)
            www_rule = rule(www, f"301 https://{domain}", www_profile, False)
        elif case == "offsite" and self.target is not None:
            apex = rule(domain, f"302 =https://www.{self.target.domain}/?ref={domain}", apex_profile, False)
        elif case == "http_to_https":
            apex = rule(domain, f"301 =http://{www}/", apex_profile, False)
        rules = {domain: apex, **({www: www_rule} if has_www else {})}
        out.lines = [r.line() for r in rules.values()]
        if page.same:
            out.zone.extend(f"{h}.\tCNAME\t{domain}.\n" for h in page.same)

        # the truth, as the crawler will find it
        target = self.target if case == "offsite" else None
        visible = {**rules, **(target.rules if target is not None else {})}
        visit = follow(domain, visible, {f"intranet.{domain}"} if case == "private_name" else set())
        cdn = {layer_p for layer, layer_p in site.truth if layer == "cdn"}
        if visit.status == "OK" and visit.final is not None:
            cdn |= self._profile_providers(visit.final[1].headers)
        cas = {self.ca_provider[k] for h, k in visit.verified if h == domain or h.endswith("." + domain)}
        third: dict[str, list[str]] = {}
        if visit.status == "OK" and visit.final is not None and visit.final[1].has_page:
            host, final = visit.final
            for h in sorted(Page.parse(final.page).hosts(host)):
                if self._third_party(h, domain):
                    third[h] = self._third_providers(h, target)
        out.resources = sorted(third)
        out.truth = [("cdn", p) for p in sorted(cdn)] + [("ca", p) for p in sorted(cas)] + [
            ("third_party", p) for p in sorted({p for ps in third.values() for p in ps})]

        # the cases it shows
        cases = out.cases
        if case is not None:
            cases.append(case)
        if tls == "valid":
            cases.append("https_ok")
        if page.variant == "malformed":
            cases.append("malformed")
        if has_www:
            cases.append("apex_to_www" if canonical_www else "www_to_apex")
        if cdn - {p for layer, p in site.truth if layer == "cdn"}:
            cases.append("header_cdn")
        if site.cdns:
            cases.append("cname_cdn")
        if page.same:
            cases.append("static_host")
        if visit.status == "OK" and not third:
            cases.append("no_third_party")
        if visit.status != "OK":
            cases.append(f"outcome_{visit.status.lower()}")
        self.cases.update(cases)
        if case in FORCED and case not in self.forced:
            self.forced[case] = domain
        if "regional_ca" in cases and "regional_ca" not in self.forced:
            self.forced["regional_ca"] = domain
        if "malformed" in cases and "malformed" not in self.forced:
            self.forced["malformed"] = domain
        if (case is None and tls == "valid" and has_www and not site.cdns and not site.owned
                and visit.status == "OK" and not canonical_www):
            self.target = _Target(domain, rules, [p for layer, p in site.truth if layer == "hosting"])
        return out

    def _third_party(self, host: str, domain: str) -> bool:
        """:func:`crawler.pages.is_third_party`, its PSL lookup memoised for the pool's hosts."""
        if host == domain or host.endswith("." + domain):
            return False
        if host not in self.pool.providers:
            return is_third_party(host, domain)
        found = self._registrable.get(host)
        if found is None:
            found = self._registrable[host] = registrable(host)
        return found != domain  # a site's domain is registrable already

    def _third_providers(self, host: str, target: _Target | None) -> list[str]:
        if host in self.pool.providers:
            return self.pool.providers[host]
        if target is not None and (host == target.domain or host.endswith("." + target.domain)):
            return target.owners
        raise KeyError(host)  # pragma: no cover - every referenced host is known

    def summary(self) -> dict[str, object]:
        """``world.json``'s ``web`` section."""
        return {
            "cases": dict(sorted(self.cases.items())),
            "forced": dict(sorted(self.forced.items())),
            "forced_missing": sorted(self.pending),
            "third_party_hosts": len(self.pool.hosts),
            "private_names": self.private_names,
            "cas": sorted(k for k in self.cas),
        }

    def pool_lines(self) -> list[str]:
        """The ``web.tsv`` lines of the third-party hosts: asset hosts, each with a CA and the
        headers of its front CDN (or of who its addresses belong to)."""
        lines: list[str] = []
        for host in self.pool.hosts:
            front = self.pool.front.get(host)
            owner = self.pool.providers[host][0]
            profile = (self._front_profile(front) if front is not None
                       else owner if owner in HEADER_HOSTED else self.rng.choice(self.plain))
            ca = self.pick_ca.pick(self.rng)
            lines.append(HostRule(host, "valid", ca, "upgrade", "-", profile, "allow", "asset").line())
        return lines

    def zone_lines(self) -> list[str]:
        """The third-party hosts' records (after every site: CDN edges they share exist by then)."""
        return self.pool.zone_lines()
