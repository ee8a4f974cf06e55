"""What the lab's web endpoint serves for each host: the ``web.tsv`` format, response headers,
robots.txt and home pages. Shared by the world generator (which derives the truth from exactly
these functions) and the endpoint (:mod:`scripts.lab.http_server`), so the two cannot drift.

``web.tsv`` has one line per served host, tab-separated (``#`` starts a comment line)::

    host  tls  ca  http  redirect  headers  robots  page

- ``tls``: ``valid`` | ``none`` (the handshake is refused for that SNI) | ``expired`` |
  ``wrong_name`` | ``untrusted`` (a leaf signed by a CA outside the published bundle);
- ``ca``: the lab CA key issuing its leaf (``cas.json``), ``-`` with ``tls`` none;
- ``http``: what plain http does: ``upgrade`` (301 to the same URL over https) or ``serve``
  (answer as over https);
- ``redirect``: ``-``, or ``<code> <base>``: every request but robots.txt is redirected to
  ``<base>`` followed by its path and query (``https://www.example.com`` + ``/?q``), or
  ``<code> =<url>``: to exactly ``<url>``;
- ``headers``: a header profile: :data:`PLAIN` (no registry fingerprint), or a provider id
  (its real headers, or, for providers without an explicit profile, the registry's
  fingerprints): :func:`response_headers`; the truth matches them with the registry as the
  crawler does, so a profile naming no provider in some registry version is still right;
- ``robots``: ``allow`` | ``deny`` (``Disallow: /`` for every agent) | ``deny-agent``
  (``Disallow: /`` for ``chokepoints`` only);
- ``page``: ``asset`` (any path: a small body), or ``<variant>;<third>;<same>;<rel>``: the home
  page, ``variant`` ``ok`` or ``malformed``, ``third`` and ``same`` comma-separated hosts it
  loads from (third parties, and the site's own other hosts), ``rel`` how many relative URLs.

Any other path of a host with a page returns a small resource body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from crawler.registry import Registry

HEADER = "#host\ttls\tca\thttp\tredirect\theaders\trobots\tpage\n"
TLS_KINDS = ("valid", "none", "expired", "wrong_name", "untrusted")
ROBOTS = {
    "allow": b"User-agent: *\nDisallow: /private/\nDisallow: /cgi-bin/\n",
    "deny": b"User-agent: *\nDisallow: /\n",
    "deny-agent": b"User-agent: chokepoints\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
}
#: header profiles of origins that are no CDN: none of them matches a registry fingerprint
PLAIN: dict[str, tuple[tuple[str, str], ...]] = {
    "nginx": (("Server", "nginx"),),
    "nginx-php": (("Server", "nginx/1.24.0"), ("X-Powered-By", "PHP/8.2.20")),
    "apache": (("Server", "Apache/2.4.62 (Debian)"), ("Vary", "Accept-Encoding")),
    "openresty": (("Server", "openresty"),),
    "litespeed": (("Server", "LiteSpeed"), ("X-LiteSpeed-Cache", "miss")),
    "iis": (("Server", "Microsoft-IIS/10.0"), ("X-Powered-By", "ASP.NET")),
}
_POPS = ("FRA", "AMS", "LHR", "CDG", "IAD", "SJC", "NRT", "SIN", "GRU", "SYD")


def _hex(seed: str, n: int) -> str:
    return hashlib.blake2b(seed.encode(), digest_size=(n + 1) // 2).hexdigest()[:n]


def _profiles(seq: str) -> dict[str, list[tuple[str, str]]]:
    pop = _POPS[int(_hex(seq, 2), 16) % len(_POPS)]
    return {
        "akamai": [("Server", "AkamaiGHost"), ("X-Akamai-Transformed", "9 - 0 pmb=mRUM,1")],
        "cloudflare": [("Server", "cloudflare"), ("CF-RAY", f"{_hex(seq, 16)}-{pop}"),
                       ("CF-Cache-Status", "DYNAMIC")],
        "cloudfront": [("Via", f"1.1 {_hex(seq, 32)}.cloudfront.net (CloudFront)"),
                       ("X-Amz-Cf-Id", f"{_hex('cf' + seq, 40)}=="), ("X-Amz-Cf-Pop", f"{pop}56-P1"),
                       ("X-Cache", "Miss from cloudfront")],
        "fastly": [("Via", "1.1 varnish"), ("X-Served-By", f"cache-{pop.lower()}-edd{int(_hex(seq, 4), 16)}-{pop}"),
                   ("X-Cache", "MISS"), ("X-Timer", f"S1700000000.{_hex(seq, 6)},VS0,VE12")],
        "azure-front-door": [("X-Azure-Ref", f"0{_hex(seq, 30).upper()}"), ("X-Cache", "CONFIG_NOCACHE")],
        "vercel": [("Server", "Vercel"), ("X-Vercel-Id", f"{pop.lower()}1::{_hex(seq, 5)}-{_hex('v' + seq, 12)}"),
                   ("X-Vercel-Cache", "MISS")],
        "netlify": [("Server", "Netlify"), ("X-Nf-Request-Id", _hex(seq, 26).upper())],
        "fly": [("Server", "Fly.io"), ("Fly-Request-Id", f"01{_hex(seq, 24).upper()}-{pop.lower()}")],
        "imperva": [("X-CDN", "Imperva (Incapsula)"),
                    ("X-Iinfo", f"{int(_hex(seq, 6), 16)}-0 0NNN RT(0 0) q(0 -1 -1 0)")],
        "sucuri": [("Server", "Sucuri/Cloudproxy"), ("X-Sucuri-ID", str(11000 + int(_hex(seq, 3), 16) % 9000))],
    }


@dataclass(frozen=True, slots=True)
class HostRule:
    """One line of ``web.tsv`` (see the module docstring)."""

    host: str
    tls: str
    ca: str
    http: str
    redirect: str
    headers: str
    robots: str
    page: str

    def line(self) -> str:
        """The ``web.tsv`` line."""
        return "\t".join((self.host, self.tls, self.ca, self.http, self.redirect, self.headers, self.robots,
                          self.page)) + "\n"

    @classmethod
    def parse(cls, line: str) -> HostRule:
        """Read a ``web.tsv`` line."""
        return cls(*line.rstrip("\n").split("\t"))

    def location(self, path: str) -> tuple[int, str] | None:
        """``(code, Location)`` when a request for *path* (with its query) is redirected."""
        if self.redirect == "-":
            return None
        code, _, target = self.redirect.partition(" ")
        return int(code), target[1:] if target.startswith("=") else target + path

    @property
    def has_page(self) -> bool:
        """True when the host serves a home page (not a redirect, not an asset host)."""
        return self.redirect == "-" and self.page not in ("-", "asset")


@dataclass(frozen=True, slots=True)
class Page:
    """A home page's spec: what it loads (see ``page`` in the module docstring)."""

    variant: str
    third: tuple[str, ...]
    same: tuple[str, ...]
    relative: int

    @classmethod
    def parse(cls, text: str) -> Page:
        """Read the ``page`` field of a host with a page."""
        variant, third, same, rel = text.split(";")
        return cls(variant, tuple(h for h in third.split(",") if h), tuple(h for h in same.split(",") if h),
                   int(rel))

    def text(self) -> str:
        """The ``page`` field."""
        return f"{self.variant};{','.join(self.third)};{','.join(self.same)};{self.relative}"

    def hosts(self, host: str) -> set[str]:
        """Every host the page references when served by *host* (its canonical link included)."""
        return {*self.third, *self.same, host}


def header_profiles(reg: Registry) -> dict[str, list[tuple[str, str]]]:
    """Every header profile at one sample sequence number: the explicit ones, and one made from
    the registry's fingerprints for each other provider that has any."""
    out = {k: list(v) for k, v in PLAIN.items()}
    out.update(_profiles("0"))
    for p in reg.providers.values():
        if p.headers and p.id not in out:
            out[p.id] = _fingerprint_headers(p.id, reg)
    return out


def _fingerprint_headers(provider: str, reg: Registry) -> list[tuple[str, str]]:
    headers: dict[str, str] = {}
    for fp in reg.providers[provider].headers:
        if fp.name not in headers:
            headers[fp.name] = fp.value if fp.value is not None else _hex(provider, 12)
    return [("-".join(w.capitalize() for w in name.split("-")), value) for name, value in headers.items()]


def response_headers(profile: str, seq: int, reg: Registry | None = None) -> list[tuple[str, str]]:
    """The profile's headers for response number *seq* (ids and POPs vary, names and
    fingerprinted values do not). *reg* is needed for registry-derived profiles only."""
    plain = PLAIN.get(profile)
    if plain is not None:
        return list(plain)
    explicit = _profiles(str(seq)).get(profile)
    if explicit is not None:
        return explicit
    if reg is None or profile not in reg.providers:
        raise KeyError(profile)
    return _fingerprint_headers(profile, reg)


def header_providers(profile: str, reg: Registry) -> set[str]:
    """The providers the crawler's header fingerprints name for a response of *profile*."""
    headers: dict[str, str] = {}
    for name, value in response_headers(profile, 0, reg):
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return {pid for pid, _ in reg.match_headers(headers)}


# -- pages -------------------------------------------------------------------------------------

_TAGS = ("script", "style", "img", "srcset", "iframe", "picture", "video", "preconnect")


def _asset(host: str, n: int, ext: str) -> str:
    return f"https://{host}/{_hex(f'{host}/{n}', 8)}/{('app', 'main', 'lib', 'v2', 'embed')[n % 5]}.{ext}"


def _ref(tag: str, host: str, n: int) -> str:
    """One element referencing *host* (``host`` may be ``//host`` for protocol-relative)."""
    if tag == "script":
        return f'<script async src="{_asset(host, n, "js")}"></script>'
    if tag == "style":
        return f"<link rel=stylesheet href='{_asset(host, n, 'css')}'>"
    if tag == "img":
        return f'<img alt="" src="{_asset(host, n, "png")}" width=1 height=1>'
    if tag == "srcset":
        return f'<img alt="" srcset="{_asset(host, n, "webp")} 1x, {_asset(host, n + 1, "webp")} 2x">'
    if tag == "iframe":
        return f'<iframe title="embed" src="{_asset(host, n, "html")}" loading=lazy></iframe>'
    if tag == "picture":
        pixel = "data:image/gif;base64,R0lGODlhAQABAAAAACw="  # no host: not a reference
        return (f'<picture><source type="image/avif" srcset="{_asset(host, n, "avif")} 640w, '
                f'{_asset(host, n + 1, "avif")} 1280w"><img alt="" src="{pixel}"></picture>')
    if tag == "video":
        return f'<video muted><source src="{_asset(host, n, "mp4")}" type="video/mp4"></video>'
    return f'<link rel="preconnect" href="https://{host}" crossorigin>'


def render_page(host: str, page: Page) -> bytes:
    """The home page *host* serves: it references exactly ``page.hosts(host)`` (resource tags
    only), plus distractors no resource tag carries (anchors, inline script strings, data URIs)."""
    seed = int(_hex(host, 4), 16)
    refs: list[str] = []
    for i, other in enumerate((*page.third, *page.same)):
        tag = _TAGS[(seed + i) % len(_TAGS)]
        target = f"//{other}" if (seed + i) % 7 == 3 and tag not in ("preconnect",) else other
        if target.startswith("//"):  # protocol-relative: the page's own scheme
            refs.append(_ref(tag, "@@", i).replace("https://@@", target))
        else:
            refs.append(_ref(tag, target, i))
    for n in range(page.relative):
        refs.append(("<script defer src='/static/js/app.{0}.js'></script>", "<img src=\"img/logo-{0}.svg\" alt=logo>",
                     "<link rel=icon href=/favicon-{0}.ico>")[n % 3].format(n))
    title = host.split(".")[0].capitalize() if not host.startswith("www.") else host.split(".")[1].capitalize()
    head = [f'<link rel="canonical" href="https://{host}/">', *refs[: len(refs) // 2]]
    body = refs[len(refs) // 2:]
    beacon = f"https://collector.{_hex(host, 6)}-metrics.example/b.gif"
    distract = (
        '<p><a href="https://twitter.com/share">share</a> <a href="https://www.linkedin.com/company/x">jobs</a></p>'
        f'<script>var beacon = "{beacon}"; window.dataLayer = [];</script>'
    )
    if page.variant == "malformed":  # unclosed tags, upper case, then bytes that are no UTF-8
        broken = (
            "<!DOCTYPE html>\n<HTML><HEAD><META charset=utf-8><TITLE>" + title + "</TITLE>\n" + "\n".join(head)
            + "\n<BODY><div class=main><p>Welcome<p>to our site <b>news <i>today\n" + "\n".join(body)
            + f"\n<table><tr><td>cell<td>\n{distract}\n<div><span>unclosed "
        )
        return broken.encode() + b"\xff\xfe\x00\x93garbage\x81 bytes <div \n"
    html = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
        + "\n".join(head) + "\n</head>\n<body>\n<header><h1>" + title + "</h1></header>\n<main>\n"
        + "\n".join(body) + f"\n</main>\n<footer>{distract}</footer>\n</body>\n</html>\n"
    )
    return html.encode()


def asset_body(path: str) -> tuple[bytes, str]:
    """A small body for a resource path, with its Content-Type."""
    ext = path.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
    if ext == "js":
        return b"/* lab */(function(){return 1})();\n", "application/javascript"
    if ext == "css":
        return b"/* lab */body{margin:0}\n", "text/css"
    if ext in ("png", "gif", "webp", "avif", "ico", "svg"):
        return b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "image/gif"  # noqa: E501
    if ext == "html":
        return b"<!DOCTYPE html><html><body>embed</body></html>\n", "text/html; charset=utf-8"
    return b"lab resource\n", "application/octet-stream"


def headers_dict(headers: Mapping[str, str] | list[tuple[str, str]]) -> dict[str, str]:
    """Header pairs as the crawler matches them: names lower case, repeated values joined."""
    out: dict[str, str] = {}
    for name, value in headers.items() if isinstance(headers, Mapping) else headers:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
