"""The provider registry (``datasets/providers.toml``) loaded into fast matchers.

A registry is data: this module only parses it, checks it (no two providers may claim the
same ASN, or the same suffix within a layer) and builds lookups:

* ``provider_for_asn(asn)``
* ``match_suffix(layer_kind, host)`` for ``cname``, ``ns`` and ``mx`` suffixes, longest match
  wins; a suffix may hold one ``*`` inside a label (``awsdns-*.com``).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import datasets

SUFFIX_KINDS = ("cname", "ns", "mx")


@dataclass(frozen=True, slots=True)
class Provider:
    id: str
    name: str
    org: str
    asns: tuple[int, ...] = ()
    cname_suffixes: tuple[str, ...] = ()
    ns_suffixes: tuple[str, ...] = ()
    mx_suffixes: tuple[str, ...] = ()


class RegistryError(ValueError):
    """The registry file is inconsistent."""


@dataclass(slots=True)
class Registry:
    """Parsed registry plus its lookup tables."""

    providers: dict[str, Provider]
    version: str
    sha256: str
    path: str
    _by_asn: dict[int, str] = field(default_factory=dict)
    _exact: dict[str, dict[str, str]] = field(default_factory=dict)
    _globs: dict[str, list[tuple[re.Pattern[str], int, str]]] = field(default_factory=dict)

    def provider_for_asn(self, asn: int | None) -> str | None:
        """Return the registry provider that owns ``asn``, or None."""
        return None if asn is None else self._by_asn.get(asn)

    def match_suffix(self, kind: str, host: str) -> tuple[str, str] | None:
        """Return ``(provider, suffix)`` for the longest registry suffix of ``host``."""
        host = host.lower().rstrip(".")
        labels = host.split(".")
        exact = self._exact[kind]
        for i in range(len(labels)):
            tail = ".".join(labels[i:])
            hit = exact.get(tail)
            glob_hit = None
            n_labels = len(labels) - i
            for pattern, count, provider in self._globs[kind]:
                if count == n_labels and pattern.fullmatch(tail):
                    glob_hit = (provider, pattern.pattern)
                    break
            if hit is not None:
                return hit, tail
            if glob_hit is not None:
                return glob_hit[0], tail
        return None

    def name(self, provider_id: str) -> str | None:
        p = self.providers.get(provider_id)
        return p.name if p else None

    def org(self, provider_id: str) -> str | None:
        p = self.providers.get(provider_id)
        return p.org if p else None


def _glob_regex(suffix: str) -> re.Pattern[str]:
    return re.compile(re.escape(suffix).replace(r"\*", "[a-z0-9-]+"))


def build(providers: Iterable[Provider], *, version: str, sha256: str, path: str) -> Registry:
    """Check the providers and build a :class:`Registry`; raise RegistryError on a clash."""
    reg = Registry(providers={}, version=version, sha256=sha256, path=path)
    reg._exact = {k: {} for k in SUFFIX_KINDS}
    reg._globs = {k: [] for k in SUFFIX_KINDS}
    for p in providers:
        if p.id in reg.providers:
            raise RegistryError(f"provider {p.id!r} is defined twice")
        if "." in p.id or not re.fullmatch(r"[a-z][a-z0-9-]*", p.id) or re.fullmatch(r"as\d+", p.id):
            raise RegistryError(f"provider id {p.id!r} must be a lowercase slug, not as<N>")
        reg.providers[p.id] = p
        for asn in p.asns:
            other = reg._by_asn.setdefault(asn, p.id)
            if other != p.id:
                raise RegistryError(f"AS{asn} is claimed by both {other!r} and {p.id!r}")
        for kind, suffixes in (("cname", p.cname_suffixes), ("ns", p.ns_suffixes), ("mx", p.mx_suffixes)):
            for s in suffixes:
                s = s.lower().rstrip(".")
                if "*" in s:
                    reg._globs[kind].append((_glob_regex(s), s.count(".") + 1, p.id))
                    continue
                other = reg._exact[kind].setdefault(s, p.id)
                if other != p.id:
                    raise RegistryError(f"{kind} suffix {s!r} is claimed by both {other!r} and {p.id!r}")
    return reg


def load(path: Path | None = None) -> Registry:
    """Load the registry from ``path`` (default: the bundled ``datasets/providers.toml``)."""
    path = path or datasets.path("providers.toml")
    raw = path.read_bytes()
    doc = tomllib.loads(raw.decode("utf-8"))
    providers = [
        Provider(
            id=entry["id"],
            name=entry.get("name", entry["id"]),
            org=entry.get("org", entry.get("name", entry["id"])),
            asns=tuple(int(a) for a in entry.get("asns", ())),
            cname_suffixes=tuple(entry.get("cname_suffixes", ())),
            ns_suffixes=tuple(entry.get("ns_suffixes", ())),
            mx_suffixes=tuple(entry.get("mx_suffixes", ())),
        )
        for entry in doc.get("provider", [])
    ]
    return build(
        providers,
        version=str(doc.get("registry", {}).get("version", "unknown")),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=str(path),
    )
