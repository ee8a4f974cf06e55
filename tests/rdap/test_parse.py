"""RDAP JSON -> RdapNetwork: ARIN and RIPE shapes, older and other RIRs' quirks, bad answers."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest

from crawler.rdap import MalformedResponse, parse_network
from scripts.lab.rdap_server import LabNetwork, Shape, arin_shape, ripe_shape

ADDR = ipaddress.ip_address("198.51.100.77")
NET = ipaddress.ip_network("198.51.100.0/24")


def test_arin_shape() -> None:
    lab = LabNetwork("198.51.100.0/24", "NET-198-51-100-0-1", "EXAMPLE-NET", "Example Hosting LLC", Shape.ARIN, "US")
    net = parse_network(arin_shape(NET, lab, "http://127.0.0.1/ip/x"), ADDR)
    assert net.handle == "NET-198-51-100-0-1"
    assert (net.start_num, net.end_num) == (int(NET.network_address), int(NET.broadcast_address))
    assert net.cidr == "198.51.100.0/24"
    assert (net.name, net.org, net.country, net.type) == (
        "EXAMPLE-NET",
        "Example Hosting LLC",
        "US",
        "DIRECT ALLOCATION",
    )
    assert net.family == 4


def test_ripe_shape_skips_the_nameless_maintainer_registrant() -> None:
    lab = LabNetwork("198.51.100.0/24", "EXAMPLE", "EXAMPLE-NET", "Example B.V.", Shape.RIPE, "NL")
    body = ripe_shape(NET, lab, "http://127.0.0.1/ip/x")
    assert body["entities"][0]["roles"] == ["registrant"] and "vcardArray" not in body["entities"][0]
    net = parse_network(body, ADDR)
    assert net.handle == "198.51.100.0 - 198.51.100.255"
    assert (net.org, net.country, net.type) == ("Example B.V.", "NL", "ASSIGNED PA")


def test_ipv6_network() -> None:
    v6 = ipaddress.ip_network("2001:db8:40::/44")
    lab = LabNetwork(str(v6), "NET6-2001-DB8-40-1", "V6-NET", "Example v6", Shape.ARIN)
    net = parse_network(arin_shape(v6, lab, "x"), ipaddress.ip_address("2001:db8:4a::1"))
    assert (net.family, net.cidr, net.org) == (6, "2001:db8:40::/44", "Example v6")


def test_older_ripe_addresses_with_a_prefix_length() -> None:
    """Older RIPE answers write ``a.b.c.d/32``; org is on no entity: none is invented."""
    body: dict[str, Any] = {
        "handle": "198.51.100.0 - 198.51.100.255",
        "startAddress": "198.51.100.0/32",
        "endAddress": "198.51.100.255/32",
        "ipVersion": "v4",
        "name": "OLD-NET",
        "country": "GB",
        "entities": [
            {
                "handle": "ROLE1-RIPE",
                "roles": ["abuse"],
                "vcardArray": ["vcard", [["fn", {}, "text", "Some Role"], ["kind", {}, "text", "group"]]],
                "entities": [{"handle": "SOME-MNT", "roles": ["registrant"]}],
            }
        ],
    }
    net = parse_network(body, ADDR)
    assert (net.cidr, net.name, net.org) == ("198.51.100.0/24", "OLD-NET", None)
    v6 = dict(body, startAddress="2001:db8::/128", endAddress="2001:db8::ffff/128", ipVersion="v6")
    assert parse_network(v6, ipaddress.ip_address("2001:db8::1")).cidr == "2001:db8::/112"


def test_nested_registrant_and_apnic_description() -> None:
    nested: dict[str, Any] = {
        "objectClassName": "ip network",
        "handle": "198.51.100.0/24",
        "startAddress": "198.51.100.0",
        "endAddress": "198.51.100.255",
        "ipVersion": "v4",
        "entities": [
            {"handle": "P1", "roles": ["technical"], "vcardArray": ["vcard", [["fn", {}, "text", "A Person"]]]},
            {
                "handle": "ORGX",
                "roles": ["abuse"],
                "entities": [
                    {"handle": "ORGY", "roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", "Org Y"]]]}
                ],
            },
        ],
    }
    assert parse_network(nested, ADDR).org == "Org Y"
    apnic = dict(
        nested, entities=nested["entities"][:1], remarks=[{"title": "description", "description": ["APNIC Holder"]}]
    )
    assert parse_network(apnic, ADDR).org == "APNIC Holder"


def _good() -> dict[str, Any]:
    lab = LabNetwork("198.51.100.0/24", "NET-1", "N", "O", Shape.ARIN)
    return arin_shape(NET, lab, "x")


def _broken(change: str) -> Any:
    body = copy.deepcopy(_good())
    if change == "not a dict":
        return ["ip network"]
    if change == "no handle":
        del body["handle"]
    elif change == "handle not text":
        body["handle"] = 7
    elif change == "no range":
        del body["startAddress"]
    elif change == "bad address":
        body["endAddress"] = "198.51.100.300"
    elif change == "other object":
        body["objectClassName"] = "autnum"
    elif change == "range misses the address":
        body["startAddress"], body["endAddress"] = "203.0.113.0", "203.0.113.255"
    elif change == "other family":
        body["startAddress"], body["endAddress"], body["ipVersion"] = "2001:db8::", "2001:db8::ff", "v6"
    return body


@pytest.mark.parametrize(
    "change",
    [
        "not a dict",
        "no handle",
        "handle not text",
        "no range",
        "bad address",
        "other object",
        "range misses the address",
        "other family",
    ],
)
def test_bad_answers_are_malformed(change: str) -> None:
    with pytest.raises(MalformedResponse):
        parse_network(_broken(change), ADDR)


def test_broken_entities_are_skipped() -> None:
    body = _good()
    body["entities"] = [
        "junk",
        {"roles": ["registrant"]},  # no handle
        {"handle": "X", "roles": ["registrant"], "vcardArray": ["vcard", "not a list"]},
        {"handle": "Y", "roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", ["a", "list"]]]]},
        {"handle": "Z", "roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", "Real Org"]]]},
    ]
    assert parse_network(body, ADDR).org == "Real Org"
