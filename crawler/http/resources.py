"""Which hosts a home page loads resources from: scripts, styles, images, frames.

These third-party hosts (CDNs, analytics, fonts, ad networks) are dependencies of the site as
real as its DNS and hosting. :func:`resource_hosts` reads them out of the HTML with lxml, which
copes with the malformed markup of the real web; bytes that are not HTML give an empty list,
never an exception.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

logger = logging.getLogger(__name__)

RESOURCE_TAGS = ("script", "link", "img", "iframe", "source")
_URL_ATTRS: dict[str, tuple[str, ...]] = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
}
_SCHEMES = ("http", "https")
_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
_HTML_END = re.compile(r"</html\s*>", re.IGNORECASE)
_AUTHORITY = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*:)?//")
_URL_NOISE = re.compile(r"[\t\n\r]")
_HOST_OK = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def resource_hosts(body: bytes, base_url: str, content_type: str | None = None) -> list[tuple[str, str, int]]:
    """Count, per host and tag, the resources an HTML page references.

    Looks at ``script[src]``, ``link[href]``, ``img[src]`` and ``img[srcset]``, ``iframe[src]``,
    ``source[src]`` and ``source[srcset]``. Relative URLs resolve against ``<base href>`` or
    ``base_url``; protocol-relative ones (``//cdn.x.com/a.js``) take its scheme. Only http(s)
    URLs count: ``data:``, ``javascript:``, ``blob:`` and the like are skipped.

    :param body: the page, any encoding; garbage is tolerated.
    :param base_url: the URL the page was fetched from (after redirects).
    :param content_type: the Content-Type header, for its charset.
    :returns: sorted ``(host, tag, count)``; hosts lower case, IDNA (punycode), without port or
        trailing dot; IPv6 hosts without brackets.
    """
    try:
        doc = _parse(body, content_type)
        if doc is None:
            return []
        counts = Counter(_references(doc, _base(doc, base_url)))
    except Exception:  # lxml on hostile input: return nothing rather than fail the page
        logger.debug("resource extraction failed for %s", base_url, exc_info=True)
        return []
    return sorted((host, tag, n) for (host, tag), n in counts.items())


def html_like(headers: Iterable[tuple[str, str]], body: bytes) -> bool:
    """Whether a response is worth parsing as HTML: by Content-Type, else by its first bytes.

    :param headers: ``(name, value)`` pairs, names lower case (as on :class:`~crawler.http.Hop`).
    :param body: the body, for sniffing when there is no Content-Type.
    """
    for name, value in headers:
        if name == "content-type":
            return "html" in value.lower()
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<meta"))


def _references(doc: Any, base: str) -> Iterator[tuple[str, str]]:
    for element in doc.iter(*RESOURCE_TAGS):
        tag = element.tag
        for attr in _URL_ATTRS[tag]:
            value = element.get(attr)
            if not value:
                continue
            refs = _srcset_urls(value) if attr == "srcset" else [value]
            for ref in refs:
                host = _host_of(ref, base)
                if host is not None:
                    yield host, tag


def _base(doc: Any, base_url: str) -> str:
    """The document's base URL: its first ``<base href>`` if that is http(s), else ``base_url``."""
    for element in doc.iter("base"):
        href = element.get("href")
        if href:
            try:
                joined = urljoin(base_url, _URL_NOISE.sub("", href).strip())
                if urlsplit(joined).scheme.lower() in _SCHEMES:
                    return joined
            except ValueError:
                pass
            break
    return base_url


def _host_of(ref: str, base: str) -> str | None:
    ref = _URL_NOISE.sub("", ref).strip()
    if not ref:
        return None
    try:
        if _AUTHORITY.match(ref) and not urlsplit(ref).netloc:
            return None  # "https://" or "//" alone: urljoin would take the base's host
        parts = urlsplit(urljoin(base, ref))
        host = parts.hostname
    except ValueError:  # bad IPv6 literal, bad port
        return None
    if parts.scheme.lower() not in _SCHEMES or not host:
        return None
    return _normal_host(host)


def _normal_host(host: str) -> str | None:
    host = host.rstrip(".").lower()
    if ":" in host:  # IPv6 literal, brackets already gone
        return host if re.fullmatch(r"[0-9a-f:.]+(%\w+)?", host) else None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if _HOST_OK.match(host) else None


def _srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset, after the HTML spec's parsing: a URL runs to whitespace, a trailing
    comma ends a candidate, descriptors (which may contain parentheses) run to the next comma."""
    urls: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        j = i
        while j < n and not value[j].isspace():
            j += 1
        url = value[i:j]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0
            while j < n:
                c = value[j]
                if c == "(":
                    depth += 1
                elif c == ")" and depth:
                    depth -= 1
                elif c == "," and not depth:
                    break
                j += 1
        if url:
            urls.append(url)
        i = j
    return urls


def _parse(body: bytes, content_type: str | None) -> Any:
    """The lxml document, or None when there is nothing to parse."""
    if not body or not body.strip():
        return None
    text = _decode(body, content_type).replace("\x00", "")
    text = _XML_DECL.sub("", text, count=1)
    # libxml2 drops everything after </html>; browsers don't, and injected tags often sit there.
    text = _HTML_END.sub("", text)
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except lxml.etree.ParserError:  # "Document is empty"
        return None


def _decode(body: bytes, content_type: str | None) -> str:
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(bom_codec, errors="replace")
    declared: str | None = None
    if content_type:
        match = _CT_CHARSET.search(content_type)
        declared = match.group(1) if match else None
    if declared is None:
        meta = _META_CHARSET.search(body[:_SNIFF_BYTES])
        declared = meta.group(1).decode("ascii") if meta else None
    encoding = _codec(declared)
    if encoding is not None:
        try:
            return body.decode(encoding, errors="replace")
        except LookupError:  # a codec that is not a text encoding (rot13, ...)
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _codec(label: str | None) -> str | None:
    """A Python codec for a declared charset; UTF-16/32 without a BOM mean UTF-8, as in browsers."""
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return name
