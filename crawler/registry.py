"""The provider registry (``datasets/providers.toml``) loaded into fast matchers.

A registry is data: this module only parses it, checks it and builds lookups. The checks
(:class:`RegistryError` on failure): no two providers claim the same ASN, the same suffix
within a kind (``cname``, ``ns``, ``mx``), the same header fingerprint (name and value), the
same range feed or the same certificate issuer organisation; every ``parent`` is a provider and
parents never cycle; layers are known; a provider has issuer organisations exactly when it
serves the ``ca`` layer.

Lookups:

* ``provider_for_asn(asn)`` and ``provider_for_feed(feed_id)``
* ``match_suffix(kind, host)`` for ``cname``, ``ns`` and ``mx`` suffixes, longest match
  wins; a suffix may hold ``*`` inside a label (``awsdns-*.com``).
* ``match_headers(headers)``: the providers whose header fingerprints a response carries.
* ``match_issuer(org)``: the CA whose issuing certificates carry the issuer organisation
  ``org`` (a certificate's issuer O=), compared whole after :func:`normalise_issuer_org`.
* ``name``, ``org``, ``org_of`` and ``parent_of`` for display and organisation-level metrics.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets

SUFFIX_KINDS = ("cname", "ns", "mx")
#: the layers a provider may serve (DESIGN.md, "Vocabulary")
LAYERS = ("hosting", "dns", "cdn", "email", "ca", "third_party")


@dataclass(frozen=True, slots=True)
class HeaderFingerprint:
    """An HTTP response header that names a provider.

    :param name: the header name, lower case.
    :param value: a lower-case substring the header's value must contain, or ``None`` when
        the header's presence is enough.
    """

    name: str
    value: str | None = None

    def matches(self, headers: Mapping[str, str]) -> bool:
        """True when *headers* (names in any case) carry this fingerprint."""
        for name, value in headers.items():
            if name.lower() == self.name and (self.value is None or self.value in value.lower()):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Provider:
    """One registry entry (see the header of ``datasets/providers.toml``)."""

    id: str
    name: str
    org: str
    parent: str | None = None
    layers: tuple[str, ...] = ()
    asns: tuple[int, ...] = ()
    cname_suffixes: tuple[str, ...] = ()
    ns_suffixes: tuple[str, ...] = ()
    mx_suffixes: tuple[str, ...] = ()
    headers: tuple[HeaderFingerprint, ...] = ()
    range_feeds: tuple[str, ...] = ()
    issuer_orgs: tuple[str, ...] = ()
    """Issuer O= values of its issuing certificates, normalised (:func:`normalise_issuer_org`)."""

    def suffixes(self, kind: str) -> tuple[str, ...]:
        """The provider's suffixes of one kind (``cname``, ``ns`` or ``mx``)."""
        return {"cname": self.cname_suffixes, "ns": self.ns_suffixes, "mx": self.mx_suffixes}[kind]


class RegistryError(ValueError):
    """The registry file is inconsistent."""


def normalise_issuer_org(org: str) -> str:
    """An issuer organisation as the registry compares it: trimmed, runs of whitespace made one
    space, lower case (``"  DigiCert   Inc "`` -> ``"digicert inc"``). Never a substring match:
    ``"Let's Encrypt"`` must not claim an issuer named ``"Not Let's Encrypt"``."""
    return " ".join(org.split()).lower()


@dataclass(slots=True)
class Registry:
    """Parsed registry plus its lookup tables."""

    providers: dict[str, Provider]
    version: str
    sha256: str
    path: str
    _by_asn: dict[int, str] = field(default_factory=dict)
    _by_feed: dict[str, str] = field(default_factory=dict)
    _exact: dict[str, dict[str, str]] = field(default_factory=dict)
    _globs: dict[str, list[tuple[re.Pattern[str], int, str]]] = field(default_factory=dict)
    _headers: list[tuple[HeaderFingerprint, str]] = field(default_factory=list)
    _by_issuer: dict[str, str] = field(default_factory=dict)

    def provider_for_asn(self, asn: int | None) -> str | None:
        """Return the registry provider that owns ``asn``, or None."""
        return None if asn is None else self._by_asn.get(asn)

    def asns(self) -> frozenset[int]:
        """Every AS a registry provider owns."""
        return frozenset(self._by_asn)

    def provider_for_feed(self, feed: str) -> str | None:
        """Return the registry provider whose published ranges *feed* holds, or None."""
        return self._by_feed.get(feed)

    def match_suffix(self, kind: str, host: str) -> tuple[str, str] | None:
        """Return ``(provider, suffix)`` for the longest registry suffix of ``host``."""
        host = host.lower().rstrip(".")
        labels = host.split(".")
        exact = self._exact[kind]
        for i in range(len(labels)):
            tail = ".".join(labels[i:])
            hit = exact.get(tail)
            if hit is not None:
                return hit, tail
            n_labels = len(labels) - i
            for pattern, count, provider in self._globs[kind]:
                if count == n_labels and pattern.fullmatch(tail):
                    return provider, tail
        return None

    def match_headers(self, headers: Mapping[str, str]) -> list[tuple[str, HeaderFingerprint]]:
        """Every ``(provider, fingerprint)`` whose fingerprint *headers* carry, registry order.

        :param headers: one HTTP response's headers (names in any case; for a repeated header,
            its values joined).
        """
        return [(pid, fp) for fp, pid in self._headers if fp.matches(headers)]

    def match_issuer(self, org: str | None) -> str | None:
        """The CA provider whose issuing certificates carry the issuer organisation *org*.

        :param org: a certificate's issuer O= as read (any case and spacing), or None.
        :returns: the provider id; None for None, an empty value or an organisation the
            registry does not know.
        """
        if not org:
            return None
        return self._by_issuer.get(normalise_issuer_org(org))

    def name(self, provider_id: str) -> str | None:
        """The display name of a registry provider, or None."""
        p = self.providers.get(provider_id)
        return p.name if p else None

    def org(self, provider_id: str) -> str | None:
        """The organisation of a registry provider, or None."""
        p = self.providers.get(provider_id)
        return p.org if p else None

    def org_of(self, provider_id: str) -> str:
        """The organisation of any provider id: the registry's ``org``, else the id itself.

        Ids the registry does not know (``as<N>``, a site's own domain) are organisations of
        their own, so organisation-level metrics never lump the long tail together.
        """
        p = self.providers.get(provider_id)
        return p.org if p else provider_id

    def parent_of(self, provider_id: str) -> str | None:
        """The provider a service belongs to (``cloudfront`` -> ``aws``), or None."""
        p = self.providers.get(provider_id)
        return p.parent if p else None

    def with_layer(self, layer: str) -> list[Provider]:
        """The providers that serve *layer*, in registry order."""
        return [p for p in self.providers.values() if layer in p.layers]


def _glob_regex(suffix: str) -> re.Pattern[str]:
    return re.compile(re.escape(suffix).replace(r"\*", "[a-z0-9-]+"))


def _claim(table: dict[Any, str], key: Any, provider: str, what: str) -> None:
    other = table.setdefault(key, provider)
    if other != provider:
        raise RegistryError(f"{what} is claimed by both {other!r} and {provider!r}")


def _check_parents(providers: dict[str, Provider]) -> None:
    for p in providers.values():
        if p.parent is not None and p.parent not in providers:
            raise RegistryError(f"provider {p.id!r}: parent {p.parent!r} is not a provider")
    for p in providers.values():
        seen = [p.id]
        node = p
        while node.parent is not None:
            if node.parent in seen:
                raise RegistryError(f"parent cycle: {' -> '.join([*seen, node.parent])}")
            seen.append(node.parent)
            node = providers[node.parent]


def build(providers: Iterable[Provider], *, version: str, sha256: str, path: str) -> Registry:
    """Check the providers and build a :class:`Registry`; raise RegistryError on a clash."""
    reg = Registry(providers={}, version=version, sha256=sha256, path=path)
    reg._exact = {k: {} for k in SUFFIX_KINDS}
    reg._globs = {k: [] for k in SUFFIX_KINDS}
    globs: dict[tuple[str, str], str] = {}
    header_keys: dict[tuple[str, str | None], str] = {}
    for p in providers:
        if p.id in reg.providers:
            raise RegistryError(f"provider {p.id!r} is defined twice")
        if "." in p.id or not re.fullmatch(r"[a-z][a-z0-9-]*", p.id) or re.fullmatch(r"as\d+", p.id):
            raise RegistryError(f"provider id {p.id!r} must be a lowercase slug, not as<N>")
        unknown = sorted(set(p.layers) - set(LAYERS))
        if unknown:
            raise RegistryError(f"provider {p.id!r}: unknown layers {unknown}")
        # issuer organisations are the only evidence of the ca layer: one without the other
        # would be a CA no certificate can name, or a fact no layer uses
        if p.issuer_orgs and "ca" not in p.layers:
            raise RegistryError(f"provider {p.id!r} has issuer_orgs but does not serve the ca layer")
        if "ca" in p.layers and not p.issuer_orgs:
            raise RegistryError(f"provider {p.id!r} serves the ca layer but has no issuer_orgs")
        reg.providers[p.id] = p
        for asn in p.asns:
            _claim(reg._by_asn, asn, p.id, f"AS{asn}")
        for feed in p.range_feeds:
            _claim(reg._by_feed, feed, p.id, f"range feed {feed!r}")
        for org in p.issuer_orgs:
            key = normalise_issuer_org(org)
            if not key:
                raise RegistryError(f"provider {p.id!r}: an issuer organisation is empty")
            _claim(reg._by_issuer, key, p.id, f"issuer organisation {key!r}")
        for fp in p.headers:
            _claim(header_keys, (fp.name, fp.value), p.id, f"header {fp.name}: {fp.value or '*'}")
            reg._headers.append((fp, p.id))
        for kind in SUFFIX_KINDS:
            for s in p.suffixes(kind):
                s = s.lower().rstrip(".")
                if "*" in s:
                    _claim(globs, (kind, s), p.id, f"{kind} suffix {s!r}")
                    reg._globs[kind].append((_glob_regex(s), s.count(".") + 1, p.id))
                else:
                    _claim(reg._exact[kind], s, p.id, f"{kind} suffix {s!r}")
    _check_parents(reg.providers)
    return reg


def _header(entry: Any, provider: str) -> HeaderFingerprint:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise RegistryError(f"provider {provider!r}: a header needs a name: {entry!r}")
    value = entry.get("value")
    if value is not None and (not isinstance(value, str) or not value):
        raise RegistryError(f"provider {provider!r}: header value must be a non-empty string")
    return HeaderFingerprint(entry["name"].strip().lower(), value.lower() if value else None)


def _issuer_org(value: Any, provider: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RegistryError(f"provider {provider!r}: an issuer organisation must be a non-empty string")
    return normalise_issuer_org(value)


def _provider(entry: dict[str, Any]) -> Provider:
    pid = entry["id"]
    return Provider(
        id=pid,
        name=entry.get("name", pid),
        org=entry.get("org", entry.get("name", pid)),
        parent=entry.get("parent"),
        layers=tuple(entry.get("layers", ())),
        asns=tuple(int(a) for a in entry.get("asns", ())),
        cname_suffixes=tuple(entry.get("cname_suffixes", ())),
        ns_suffixes=tuple(entry.get("ns_suffixes", ())),
        mx_suffixes=tuple(entry.get("mx_suffixes", ())),
        headers=tuple(_header(h, pid) for h in entry.get("headers", ())),
        range_feeds=tuple(entry.get("range_feeds", ())),
        issuer_orgs=tuple(_issuer_org(o, pid) for o in entry.get("issuer_orgs", ())),
    )


def load(path: Path | None = None) -> Registry:
    """Load the registry from ``path`` (default: the bundled ``datasets/providers.toml``).

    :raises RegistryError: when the file is inconsistent (see the module docstring).
    """
    path = path or datasets.path("providers.toml")
    raw = path.read_bytes()
    doc = tomllib.loads(raw.decode("utf-8"))
    return build(
        [_provider(entry) for entry in doc.get("provider", [])],
        version=str(doc.get("registry", {}).get("version", "unknown")),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=str(path),
    )
