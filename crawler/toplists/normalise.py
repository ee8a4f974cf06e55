"""Turn a top-list entry (a name, an origin, a URL) into its registrable domain.

The Public Suffix List is the snapshot bundled with tldextract (``.tld_set_snapshot``, parsed
with tldextract's own parser): it is read from the installed package, never fetched, so
loading a list needs no network and the result depends only on the installed tldextract
version (:data:`PSL_VERSION` names it; each snapshot records it).

Only the ICANN section of the list is used; the private section is off on purpose. Private
suffixes are registered by providers for their own customers (``github.io``, ``blogspot.com``,
``cloudfront.net``, ``s3.amazonaws.com``...). With them on, ``cloudfront.net`` would be a bare
public suffix and be rejected, and every ``user.github.io`` would be a site of its own, while
the list publishers (Tranco's pay-level domains, CrUX, Radar) rank ``github.io`` itself. Sites
hosted on a provider's shared domain are exactly the dependency this tool measures, and they
are counted once, under the provider's domain.

No settings are read.
"""

from __future__ import annotations

import functools
import ipaddress
import pkgutil
import re
from typing import NamedTuple

import idna
import tldextract
from tldextract.suffix_list import extract_tlds_from_suffix_list

# A plain, already-normalised host name: lower-case LDH labels of 1..63 characters with no
# leading or trailing hyphen, at least two labels. Top lists are almost all such names, so
# they skip the slow path below (a 1M-line Tranco-like list loads in about 3 s).
_PLAIN_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)
# Underscores occur in real host names (``data_x.global.ssl.fastly.net``): allowed in the
# labels that are cut off, refused in the registrable label.
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")
_BAD_CHAR = re.compile(r"[^a-z0-9._-]")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_MAX_NAME = 253
_MAX_LABEL = 63
# A list entry longer than this is no host name, origin or URL worth parsing; refusing it first
# keeps one garbage line (an 8 MB line without a newline) from costing more than a moment.
_MAX_ENTRY = 4096


class _SuffixRules(NamedTuple):
    """The ICANN rules of the Public Suffix List, in punycode, as three sets."""

    plain: frozenset[str]  # "co.uk"
    wildcard: frozenset[str]  # "ck" for "*.ck"
    exception: frozenset[str]  # "www.ck" for "!www.ck"


def _psl_text() -> str:
    data = pkgutil.get_data("tldextract", ".tld_set_snapshot")
    if not data:
        raise RuntimeError("tldextract ships no Public Suffix List snapshot")
    return data.decode("utf-8")


def _to_ascii(rule: str) -> str:
    if rule.isascii():
        return rule.lower()
    try:
        return str(idna.encode(rule, uts46=True).decode("ascii"))
    except (idna.IDNAError, UnicodeError):
        return rule.encode("idna").decode("ascii")


@functools.cache
def _rules() -> _SuffixRules:
    """Parse the bundled snapshot once per process (tldextract's own parser, ICANN half).

    tldextract's extractor is not used per name: its URL parsing and punycode decoding cost
    about 4 µs a name, most of a 1M-line load; three set lookups per label do the same job.
    """
    icann, _private = extract_tlds_from_suffix_list(_psl_text())
    plain: set[str] = set()
    wildcard: set[str] = set()
    exception: set[str] = set()
    for rule in icann:
        if rule.startswith("!"):
            exception.add(_to_ascii(rule[1:]))
        elif rule.startswith("*."):
            wildcard.add(_to_ascii(rule[2:]))
        else:
            plain.add(_to_ascii(rule))
    return _SuffixRules(frozenset(plain), frozenset(wildcard), frozenset(exception))


def public_suffix(name: str) -> str | None:
    """The public suffix of an ASCII lower-case ``name`` (PSL algorithm, ICANN rules).

    Returns None when no rule matches: the PSL's default rule ``*`` would make any unknown
    top-level label a suffix, but an unknown TLD (``localhost``, ``lan``, ``corp``) is not a
    site on the public web, so callers reject it.
    """
    plain, wildcard, exception = _rules()
    candidate = name
    while candidate:
        if candidate in exception:
            return candidate.partition(".")[2]
        parent = candidate.partition(".")[2]
        if candidate in plain or parent in wildcard:
            return candidate
        candidate = parent
    return None


def _psl_version() -> str:
    """Name the bundled snapshot: its PSL ``VERSION`` and ``COMMIT`` and the tldextract version."""
    fields: dict[str, str] = {}
    for line in _psl_text()[:4096].splitlines():
        key, sep, value = line.removeprefix("//").strip().partition(":")
        if sep and key in ("VERSION", "COMMIT"):
            fields[key] = value.strip()
    return (
        f"psl {fields.get('VERSION', 'unknown')} commit {fields.get('COMMIT', 'unknown')[:12]}"
        f" (tldextract {tldextract.__version__} snapshot, ICANN section)"
    )


PSL_VERSION = _psl_version()


def normalise_domain(raw: str) -> str:
    """Return the registrable domain of a top-list entry.

    Accepts a host name or an origin/URL: the scheme, user info, path, port, trailing dots
    and ``*.`` wildcards are stripped; internationalised names become punycode (UTS-46
    mapping); the result is lower-case and reduced to one label under its public suffix
    (``https://www.Example.co.uk:443/x`` -> ``example.co.uk``).

    :param raw: the entry as read from the list.
    :returns: the registrable domain, ASCII, lower-case.
    :raises ValueError: with the reason as message when the entry is not a domain: empty,
        an IP address, an over-long label or name, invalid characters, a bare public suffix,
        a name under no known public suffix, or binary garbage.
    """
    name = raw.strip()
    if len(name) > _MAX_ENTRY:
        raise ValueError(f"entry longer than {_MAX_ENTRY} characters")
    if _PLAIN_HOST.fullmatch(name) is None:
        name = _clean(name)
    if len(name) > _MAX_NAME:
        raise ValueError(f"name longer than {_MAX_NAME} characters")
    if name[-1].isdigit() and name.rpartition(".")[2].isdigit():
        raise ValueError(_numeric_reason(name))
    plain, wildcard, exception = _rules()
    longer = ""  # the candidate one label longer than ``candidate``
    candidate = name
    while candidate:
        if candidate in exception:  # the suffix is the parent: ``candidate`` is registrable
            longer = candidate
            break
        parent = candidate.partition(".")[2]
        if candidate in plain or parent in wildcard:
            if not longer:
                raise ValueError(f"is a public suffix: {candidate!r}")
            break
        longer, candidate = candidate, parent
    else:
        raise ValueError(f"not under a known public suffix: {name.rpartition('.')[2]!r}")
    if "_" in longer:
        raise ValueError("invalid character '_'")
    if longer.startswith("xn--"):
        _check_punycode(longer.partition(".")[0])
    return longer


def _check_punycode(label: str) -> None:
    """Refuse an ``xn--`` label that is not punycode (only the punycode, not IDNA 2008:
    registries have registered names, emoji ones, that IDNA 2008 no longer allows)."""
    try:
        label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        raise ValueError(f"invalid internationalised name: bad punycode {label!r}") from None


def _clean(text: str) -> str:
    """Slow path: strip URL parts, map IDNs to punycode and check every label."""
    if not text:
        raise ValueError("empty")
    if "\ufffd" in text:
        raise ValueError("not valid UTF-8 (binary garbage?)")
    if not text.isprintable():
        raise ValueError("control characters (binary garbage?)")
    if any(c.isspace() for c in text):
        raise ValueError("contains whitespace")
    # match, not sub: a scheme only ever starts the entry, and an unanchored search would try
    # every position of a long entry, each scanning to its end (quadratic time)
    scheme = _SCHEME.match(text)
    name = (text[scheme.end() :] if scheme else text).removeprefix("//")
    for sep in "/?#":
        name = name.partition(sep)[0]
    name = name.rpartition("@")[2]
    if name.startswith("["):
        raise ValueError("IP address literal")
    if ":" in name:
        host, _, port = name.rpartition(":")
        if port.isdigit() and ":" not in host:
            name = host
        else:
            raise ValueError(_colon_reason(name))
    name = name.rstrip(".")
    while name.startswith(("*.", ".")):
        name = name[1:].lstrip(".")
    if name == "*":
        name = ""
    if not name:
        raise ValueError("empty")
    if name.isascii():
        name = name.lower()
    else:
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValueError(f"invalid internationalised name: {exc}") from None
    _check_labels(name)
    return name


def _check_labels(name: str) -> None:
    """Raise ValueError naming the first thing that makes ``name`` no host name."""
    if len(name) > _MAX_NAME:
        raise ValueError(f"name longer than {_MAX_NAME} characters")
    bad = _BAD_CHAR.search(name)
    if bad is not None:
        raise ValueError(f"invalid character {bad.group()!r}")
    for label in name.split("."):
        if not label:
            raise ValueError("empty label")
        if len(label) > _MAX_LABEL:
            raise ValueError(f"label longer than {_MAX_LABEL} characters")
        if _LABEL.fullmatch(label) is None:
            raise ValueError(f"label starts or ends with a hyphen: {label!r}")


def _numeric_reason(name: str) -> str:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return "numeric top-level label"
    return "IP address literal"


def _colon_reason(name: str) -> str:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return "invalid character ':'"
    return "IP address literal"
