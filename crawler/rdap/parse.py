"""RDAP ``ip network`` JSON -> :class:`RdapNetwork`, with ipwhois's parsers.

Only ipwhois's pure parsers are used (``_RDAPNetwork``, ``_RDAPEntity``), never its ``Net``,
``RDAP`` or ``IPWhois`` classes: those build a DNS resolver from the system's configuration
and may fetch more objects from the RIRs' public servers. A response that does not describe a
network holding the asked address is :class:`MalformedResponse`, so it can never be cached as
a network.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ipwhois.exceptions import BaseIpwhoisException
from ipwhois.rdap import _RDAPEntity, _RDAPNetwork

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_PARSE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


class MalformedResponse(ValueError):
    """The RDAP answer is not an ip network object holding the asked address."""


@dataclass(frozen=True, slots=True)
class RdapNetwork:
    """The network an RDAP server names for an address.

    ``org`` is the registrant entity's name (vCard ``fn``); ``cidr`` is the range as CIDRs
    joined by ``", "`` (a range need not be one prefix).
    """

    handle: str
    family: int
    start_num: int
    end_num: int
    cidr: str | None
    name: str | None
    org: str | None
    country: str | None
    type: str | None
    parent_handle: str | None


def parse_network(data: Any, address: IPAddress) -> RdapNetwork:
    """Parse an ``/ip/<address>`` answer.

    :raises MalformedResponse: not an ip network object, no handle or range, or a range that
        does not hold ``address``.
    """
    if not isinstance(data, dict):
        raise MalformedResponse("RDAP answer is not a JSON object")
    kind = data.get("objectClassName")
    if kind is not None and kind != "ip network":
        raise MalformedResponse(f"objectClassName is {kind!r}, not 'ip network'")
    net = _RDAPNetwork(data)
    try:
        net.parse()
    except (BaseIpwhoisException, *_PARSE_ERRORS) as exc:
        raise MalformedResponse(f"not an ip network: {exc}") from None
    fields: dict[str, Any] = net.vars
    try:  # older RIPE answers write addresses as "62.239.237.0/32", "2a00:2381:ffff::/128"
        start = ipaddress.ip_address(str(fields["start_address"]).split("/")[0])
        end = ipaddress.ip_address(str(fields["end_address"]).split("/")[0])
    except _PARSE_ERRORS as exc:
        raise MalformedResponse(f"bad address range: {exc}") from None
    if not (start.version == end.version == address.version and int(start) <= int(address) <= int(end)):
        raise MalformedResponse(f"range {start} - {end} does not hold {address}")
    return RdapNetwork(
        handle=str(fields["handle"]),
        family=address.version,
        start_num=int(start),
        end_num=int(end),
        cidr=", ".join(str(n) for n in ipaddress.summarize_address_range(start, end)),
        name=_text(fields.get("name")),
        org=registrant_name(data.get("entities")) or _description(data.get("remarks")),
        country=_text(fields.get("country")),
        type=_text(fields.get("type")),
        parent_handle=_text(fields.get("parent_handle")),
    )


def registrant_name(entities: Any) -> str | None:
    """The name of the registrant entity, else of the first entity of vCard kind ``org``.

    Registrants nested one level down count too (LACNIC nests them in the org entity); a
    registrant without a vCard name (RIPE lists maintainers so) is passed over.
    """
    top = list(_entities(entities))
    nested = [pair for raw in (entities if isinstance(entities, list) else []) for pair in _nested(raw)]
    for roles, contact in (*top, *nested):
        if "registrant" in roles and _text(contact.get("name")):
            return _text(contact.get("name"))
    for _, contact in (*top, *nested):
        if contact.get("kind") == "org" and _text(contact.get("name")):
            return _text(contact.get("name"))
    return None


def _nested(raw: Any) -> list[tuple[list[str], dict[str, Any]]]:
    return list(_entities(raw.get("entities"))) if isinstance(raw, dict) else []


def _entities(entities: Any) -> Iterable[tuple[list[str], dict[str, Any]]]:
    for raw in entities if isinstance(entities, list) else []:
        if not isinstance(raw, dict):
            continue
        ent = _RDAPEntity(raw)
        try:
            ent.parse()
        except (BaseIpwhoisException, *_PARSE_ERRORS):
            logger.debug("skipping an unparsable RDAP entity")
            continue
        roles = ent.vars.get("roles")
        contact = ent.vars.get("contact")
        yield (
            [str(r) for r in roles] if isinstance(roles, list) else [],
            contact if isinstance(contact, dict) else {},
        )


def _description(remarks: Any) -> str | None:
    """APNIC names the holder only in a ``description`` remark: its first line."""
    for remark in remarks if isinstance(remarks, list) else []:
        if isinstance(remark, dict) and remark.get("title") == "description":
            lines = remark.get("description")
            if isinstance(lines, list) and lines:
                return _text(lines[0])
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
