"""How the lab names things: generated sites, long-tail hosters, and each provider's real
naming for its name servers, mail exchangers and CDN edge names.

Every name a provider template returns lies under one of that provider's registry suffixes
(``tests/lab`` checks it), so the ground truth can be derived from the registry alone.
Templates that return *shared* names (the same host serves many sites: ``aspmx.l.google.com``)
are memoised by the world so that a name always has the same addresses; *per-site* names
(``www.example.com.cdn.cloudflare.net``) are unique to one site.
"""

from __future__ import annotations

import random
from collections.abc import Callable

_SYLLABLES = [c + v for c in "bcdfghjklmnprstvz" for v in "aeio"]
# fmt: off
_TLDS = (
    ("com", 52), ("net", 7), ("org", 6), ("de", 4), ("co.uk", 3), ("ru", 3), ("jp", 2),
    ("io", 2), ("fr", 2), ("com.br", 2), ("it", 1), ("nl", 1), ("pl", 1), ("in", 1),
    ("com.au", 1), ("es", 1), ("ca", 1), ("info", 1), ("co", 1), ("cn", 1),
)
# fmt: on
_TLD_NAMES = [t for t, _ in _TLDS]
_TLD_WEIGHTS = [w for _, w in _TLDS]
_HOSTER_WORDS = ("host", "hosting", "web", "net", "server", "cloud", "data", "it", "online")
# fmt: off
_CF_NAMES = (
    "ada", "alan", "amy", "anna", "art", "becky", "bob", "brad", "carl", "cash",
    "chad", "chris", "dana", "dave", "dina", "elle", "ernest", "fay", "gabe", "gail",
    "hank", "ivy", "jack", "jim", "kate", "kim", "lara", "leo", "lily", "lou",
    "mark", "meg", "nash", "nina", "olga", "pam", "paul", "rick", "rita", "sam",
    "sara", "tim", "tina", "uma", "vera", "walt", "zoe",
)
# fmt: on
_AWS_TLDS = ("com", "net", "org", "co.uk")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"

#: (rng, site, token) -> host names. ``token`` is unique per site (see :func:`token`).
NameFn = Callable[[random.Random, str, str], list[str]]
#: (rng, site, token) -> (preference, host) pairs.
MxFn = Callable[[random.Random, str, str], list[tuple[int, str]]]


def token(index: int, rng: random.Random, width: int = 8) -> str:
    """A label part unique per *index*: random letters, then the index in base 36."""
    digits = ""
    while True:
        index, rest = divmod(index, 36)
        digits = _BASE36[rest] + digits
        if index == 0:
            break
    bits = rng.getrandbits(5 * width)
    filler = "".join(_BASE32[(bits >> (5 * i)) & 31] for i in range(width))
    return filler + digits


def site_name(rng: random.Random) -> str:
    """A pronounceable made-up registrable domain (``kabedo.com``)."""
    label = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
    if rng.random() < 0.15:
        label += "-" + "".join(rng.choice(_SYLLABLES) for _ in range(2))
    return f"{label}.{rng.choices(_TLD_NAMES, _TLD_WEIGHTS)[0]}"


def hoster_name(rng: random.Random) -> str:
    """A made-up small hosting company's domain (``lokavi-hosting.de``)."""
    word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
    tld = rng.choice(("net", "net", "com", "de", "nl", "fr", "pl", "eu", "ru", "com.br"))
    return f"{word}-{rng.choice(_HOSTER_WORDS)}.{tld}"


def _distinct(rng: random.Random, pool: list[str] | tuple[str, ...], k: int) -> list[str]:
    return sorted(rng.sample(list(pool), k))


# -- name servers: one call gives one site's NS set (shared hosts) ------------------------

NS_TEMPLATES: dict[str, NameFn] = {
    "route53": lambda r, s, t: [
        f"ns-{n}.awsdns-{n // 32:02d}.{tld}"
        for n, tld in ((r.randrange(2048), tld) for tld in _AWS_TLDS)
    ],
    "google-cloud": lambda r, s, t: [
        f"ns-cloud-{c}{i}.googledomains.com" for c in r.choice("abcde") for i in range(1, 5)
    ],
    "azure-dns": lambda r, s, t: [
        f"ns{i}-{n:02d}.azure-dns.{tld}"
        for n in [r.randrange(1, 100)]
        for i, tld in enumerate(("com", "net", "org", "info"), start=1)
    ],
    "cloudflare": lambda r, s, t: [f"{n}.ns.cloudflare.com" for n in _distinct(r, _CF_NAMES, 2)],
    "akamai-edge-dns": lambda r, s, t: [
        f"a{n}-{r.choice((64, 65, 66, 67))}.akam.net"
        for n in _distinct(r, [str(i) for i in range(1, 29)], 4)
    ],
    "linode": lambda r, s, t: [f"ns{i}.linode.com" for i in _distinct(r, tuple("12345"), 4)],
    "oracle-dns": lambda r, s, t: [
        f"ns{i}.p{n:02d}.dns.oraclecloud.net" for n in [r.randrange(1, 100)] for i in range(1, 5)
    ],
    "dyn": lambda r, s, t: [
        f"ns{i}.p{n:02d}.dynect.net" for n in [r.randrange(1, 100)] for i in range(1, 5)
    ],
    "alibaba-dns": lambda r, s, t: [
        f"dns{2 * n + i}.hichina.com" for n in [r.randrange(15)] for i in (1, 2)
    ],
    "dnspod": lambda r, s, t: [
        f"ns{2 * n + i}.dnspod.net" for n in [r.randrange(10)] for i in (1, 2)
    ],
    "digitalocean": lambda r, s, t: [f"ns{i}.digitalocean.com" for i in (1, 2, 3)],
    "hetzner": lambda r, s, t: [
        "helium.ns.hetzner.de",
        "hydrogen.ns.hetzner.com",
        "oxygen.ns.hetzner.com",
    ],
    "ovh": lambda r, s, t: [
        f"{p}{n}.ovh.net" for n in [r.randrange(10, 200)] for p in ("dns", "ns")
    ],
    "godaddy": lambda r, s, t: [
        f"ns{n + i:02d}.domaincontrol.com" for n in [2 * r.randrange(40) + 1] for i in (0, 1)
    ],
    "vultr": lambda r, s, t: ["ns1.vultr.com", "ns2.vultr.com"],
    "ns1": lambda r, s, t: [
        f"dns{i}.p{n:02d}.nsone.net" for n in [r.randrange(1, 100)] for i in range(1, 5)
    ],
    "ultradns": lambda r, s, t: [
        f"pdns{n}.ultradns.{tld}"
        for n in [r.randrange(1, 200)]
        for tld in ("net", "com", "org", "biz")
    ],
    "dnsmadeeasy": lambda r, s, t: [
        f"ns{i}.dnsmadeeasy.com" for i in _distinct(r, [str(i) for i in range(16)], 4)
    ],
    "namecheap": lambda r, s, t: ["dns1.registrar-servers.com", "dns2.registrar-servers.com"],
    "gandi": lambda r, s, t: [
        f"ns-{n}-{x}.gandi.net" for n in [r.randrange(1, 250)] for x in "abc"
    ],
    "yandex": lambda r, s, t: ["dns1.yandex.net", "dns2.yandex.net"],
    "dnsimple": lambda r, s, t: [
        "ns1.dnsimple.com",
        "ns2.dnsimple-edge.net",
        "ns3.dnsimple.com",
        "ns4.dnsimple-edge.org",
    ],
    "cloudns": lambda r, s, t: (
        [f"ns{i}.cloudns.net" for i in range(1, 5)]
        if r.random() < 0.5
        else [f"pns{n + i}.cloudns.net" for n in [10 * r.randrange(1, 10)] for i in (1, 2, 3, 4)]
    ),
    "hurricane-electric": lambda r, s, t: [f"ns{i}.he.net" for i in range(1, 6)],
    "easydns": lambda r, s, t: [
        f"dns{i}.easydns.{tld}" for i, tld in enumerate(("com", "net", "org", "info"), start=1)
    ],
    "porkbun": lambda r, s, t: [
        f"{city}.ns.porkbun.com" for city in ("curitiba", "fortaleza", "maceio", "salvador")
    ],
    "ionos": lambda r, s, t: [
        f"ns{n}.ui-dns.{tld}" for n in [r.randrange(1000, 1100)] for tld in ("com", "de", "org", "biz")
    ],
    "hostinger": lambda r, s, t: ["ns1.dns-parking.com", "ns2.dns-parking.com"],
    "newfold": lambda r, s, t: (
        ["ns1.bluehost.com", "ns2.bluehost.com"]
        if r.random() < 0.5
        else [
            f"ns{n + i}.{dom}"
            for dom in [r.choice(("hostgator.com", "websitewelcome.com"))]
            for n in [2 * r.randrange(100, 5000)]
            for i in (0, 1)
        ]
    ),
    "network-solutions": lambda r, s, t: [
        f"ns{n + i}.worldnic.com" for n in [2 * r.randrange(1, 50) + 1] for i in (0, 1)
    ],
    "dreamhost": lambda r, s, t: [f"ns{i}.dreamhost.com" for i in (1, 2, 3)],
    "rackspace": lambda r, s, t: ["dns1.stabletransit.com", "dns2.stabletransit.com"],
    "wix": lambda r, s, t: [f"ns{n + i}.wixdns.net" for n in [2 * r.randrange(8)] for i in (0, 1)],
    "automattic": lambda r, s, t: [f"ns{i}.wordpress.com" for i in (1, 2, 3)],
    "vercel": lambda r, s, t: ["ns1.vercel-dns.com", "ns2.vercel-dns.com"],
    "ibm-cloud": lambda r, s, t: ["ns1.softlayer.com", "ns2.softlayer.com"],
    "scaleway": lambda r, s, t: ["ns0.dom.scw.cloud", "ns1.dom.scw.cloud"],
}

# -- mail: one call gives one site's MX set -------------------------------------------------

#: templates whose names are unique per site (everything else is shared and memoised)
PER_SITE_MX = frozenset({"microsoft-365", "proofpoint", "barracuda"})

MX_TEMPLATES: dict[str, MxFn] = {
    "google-workspace": lambda r, s, t: (
        [
            (1, "aspmx.l.google.com"),
            (5, "alt1.aspmx.l.google.com"),
            (5, "alt2.aspmx.l.google.com"),
            (10, "alt3.aspmx.l.google.com"),
            (10, "alt4.aspmx.l.google.com"),
        ]
        if r.random() < 0.8
        else [(1, "smtp.google.com")]
    ),
    "microsoft-365": lambda r, s, t: [(0, f"{t}.mail.protection.outlook.com")],
    "amazon-ses": lambda r, s, t: [
        (10, f"inbound-smtp.{r.choice(('us-east-1', 'us-west-2', 'eu-west-1'))}.amazonaws.com")
    ],
    "cloudflare": lambda r, s, t: [
        (p, f"route{i}.mx.cloudflare.net") for i, p in ((1, r.randrange(1, 99)), (2, 99), (3, 100))
    ],
    "alibaba-mail": lambda r, s, t: [(5, "mxw.mxhichina.com"), (10, "mxn.mxhichina.com")],
    "tencent-exmail": lambda r, s, t: [(5, "mxbiz1.qq.com"), (10, "mxbiz2.qq.com")],
    "hetzner": lambda r, s, t: [(10, f"mx{r.randrange(1, 30)}.mail.your-server.de")],
    "ovh": lambda r, s, t: [
        (1, "mx1.mail.ovh.net"),
        (5, "mx2.mail.ovh.net"),
        (50, "mx3.mail.ovh.net"),
        (100, "mx4.mail.ovh.net"),
    ],
    "godaddy": lambda r, s, t: [(0, "smtp.secureserver.net"), (10, "mailstore1.secureserver.net")],
    "namecheap": lambda r, s, t: [(10, "mx1.privateemail.com"), (10, "mx2.privateemail.com")],
    "gandi": lambda r, s, t: [(10, "spool.mail.gandi.net"), (50, "fb.mail.gandi.net")],
    "zoho": lambda r, s, t: [
        (p, f"{h}.{tld}")
        for tld in [r.choice(("zoho.com", "zoho.eu"))]
        for p, h in ((10, "mx"), (20, "mx2"), (50, "mx3"))
    ],
    "proofpoint": lambda r, s, t: [(10, f"mx0a-{t}.pphosted.com"), (10, f"mx0b-{t}.pphosted.com")],
    "mimecast": lambda r, s, t: [
        (10, f"{reg}-smtp-inbound-{i}.{dom}")
        for reg, dom in [
            r.choice((("us", "mimecast.com"), ("eu", "mimecast.com"), ("za", "mimecast.co.za")))
        ]
        for i in (1, 2)
    ],
    "yandex": lambda r, s, t: [(10, "mx.yandex.net")],
    "barracuda": lambda r, s, t: [
        (10, f"d{t}{x}.ess.{region}barracudanetworks.com")
        for region in [r.choice(("", "", "eu.", "ca."))]
        for x in "ab"
    ],
    "cisco-secure-email": lambda r, s, t: [
        (10, f"mx{i}.hc{n}-{m}.iphmx.com")
        for n, m in [(r.randrange(1000, 9999), r.randrange(1, 99))]
        for i in (1, 2)
    ],
    "fastmail": lambda r, s, t: [
        (10, "in1-smtp.messagingengine.com"),
        (20, "in2-smtp.messagingengine.com"),
    ],
    "proton": lambda r, s, t: [(10, "mail.protonmail.ch"), (20, "mailsec.protonmail.ch")],
    "mailgun": lambda r, s, t: [
        (10, f"mx{x}.{region}mailgun.org") for region in [r.choice(("", "eu."))] for x in "ab"
    ],
    "sendgrid": lambda r, s, t: [(10, "mx.sendgrid.net")],
    "ionos": lambda r, s, t: [
        (10, f"mx0{i}.ionos.{tld}") for tld in [r.choice(("de", "com"))] for i in (0, 1)
    ],
    "hostinger": lambda r, s, t: [(5, "mx1.hostinger.com"), (10, "mx2.hostinger.com")],
    "rackspace": lambda r, s, t: [(10, "mx1.emailsrvr.com"), (20, "mx2.emailsrvr.com")],
    "dreamhost": lambda r, s, t: [(0, "mx1.dreamhost.com"), (0, "mx2.dreamhost.com")],
    "apple": lambda r, s, t: [(10, "mx01.mail.icloud.com"), (10, "mx02.mail.icloud.com")],
}

# -- CDN: one call gives the CNAME chain behind www (1-2 hops); the last name gets addresses --

#: templates whose *last* hop is shared between sites (memoised); other hops are per site
SHARED_LAST_HOP = frozenset({"akamai", "fastly", "sucuri", "vercel"})

CDN_TEMPLATES: dict[str, NameFn] = {
    "cloudflare": lambda r, s, t: [f"www.{s}.cdn.cloudflare.net"],
    "akamai": lambda r, s, t: (
        [f"www.{s}.edgekey.net", f"e{r.randrange(1, 99999)}.{r.choice('abdg')}.akamaiedge.net"]
        if r.random() < 0.6
        else [f"www.{s}.edgesuite.net", f"a{r.randrange(1, 9999)}.g.akamai.net"]
    ),
    "cloudfront": lambda r, s, t: [f"d{t}.cloudfront.net"],
    "fastly": lambda r, s, t: [f"{t}.map.fastly.net", f"{r.choice('ijkn')}.sni.global.fastly.net"],
    "azure-front-door": lambda r, s, t: (
        [f"{t}.azureedge.net"] if r.random() < 0.5 else [f"{t}.z01.azurefd.net"]
    ),
    "imperva": lambda r, s, t: [f"{t}.x.incapdns.net"],
    "sucuri": lambda r, s, t: [f"cloudproxy{r.randrange(10000, 10100)}.sucuri.net"],
    "alibaba": lambda r, s, t: [f"www.{s}.w.alikunlun.com"],
    "tencent": lambda r, s, t: [f"www.{s}.cdn.dnsv1.com"],
    "edgio": lambda r, s, t: [f"{t}.wpc.edgecastcdn.net"],
    "limelight": lambda r, s, t: [f"{t}.{r.choice(('vo', 'hs'))}.llnwd.net"],
    "stackpath": lambda r, s, t: (
        [f"{t}.stackpathdns.com"] if r.random() < 0.6 else [f"cds.{t}.hwcdn.net"]
    ),
    "bunny": lambda r, s, t: [f"{t}.b-cdn.net"],
    "cdn77": lambda r, s, t: [f"{t}.rsc.cdn77.org"],
    "gcore": lambda r, s, t: [f"cl-{t}.gcdn.co"],
    "cachefly": lambda r, s, t: [f"{t}.cachefly.net"],
    "keycdn": lambda r, s, t: [f"{t}.kxcdn.com"],
    "cdnetworks": lambda r, s, t: [f"{t}.cdngc.net"],
    "wangsu": lambda r, s, t: [f"www.{s}.wscdns.com"],
    "huawei-cloud": lambda r, s, t: [f"www.{s}.c.cdnhwc1.com"],
    "vercel": lambda r, s, t: ["cname.vercel-dns.com"],
    "netlify": lambda r, s, t: [f"{t}.netlify.app"],
    "fly": lambda r, s, t: [f"{t}.fly.dev"],
    "leaseweb": lambda r, s, t: [f"{t}.lswcdn.net"],
}


def generic_host(suffix: str, label: str, rng: random.Random) -> str:
    """A host under a registry suffix for providers without a template (``*`` filled in)."""
    return f"{label}.{suffix.replace('*', str(rng.randrange(1, 64)))}"


def ns_names(provider: str, suffixes: tuple[str, ...], rng: random.Random) -> list[str]:
    """One NS set at *provider* (its template, else ``ns1``/``ns2`` under its first suffix)."""
    fn = NS_TEMPLATES.get(provider)
    if fn is not None:
        return fn(rng, "", "")
    return [generic_host(suffixes[0], f"ns{i}", rng) for i in (1, 2)]


def mx_names(
    provider: str, suffixes: tuple[str, ...], rng: random.Random, site: str, tok: str
) -> list[tuple[int, str]]:
    """One MX set at *provider* for *site* (its template, else ``mx1``/``mx2``)."""
    fn = MX_TEMPLATES.get(provider)
    if fn is not None:
        return fn(rng, site, tok)
    return [(10 * i, generic_host(suffixes[0], f"mx{i}", rng)) for i in (1, 2)]


def cdn_chain(
    provider: str, suffixes: tuple[str, ...], rng: random.Random, site: str, tok: str
) -> list[str]:
    """The CNAME targets behind ``www.<site>`` at CDN *provider* (1-2 hops)."""
    fn = CDN_TEMPLATES.get(provider)
    chain = fn(rng, site, tok) if fn is not None else [generic_host(suffixes[0], tok, rng)]
    if any(len(name) > 250 for name in chain):  # very long site names: a short per-site label
        chain = [generic_host(suffixes[0], tok, rng)]
    return chain
