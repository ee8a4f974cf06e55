"""The hand-written wire code against dnspython, with Hypothesis-made names and records."""

from __future__ import annotations

import contextlib
import struct

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.dns import MalformedMessage, Record, build_query, parse_response
from crawler.dns.errors import InvalidName
from crawler.dns.wire import encode_name, read_name, type_code, type_name

LDH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


def dnspython_records(wire: bytes) -> list[Record]:
    """The answer section as dnspython reads it (one RR per RRset: wire order), as our text."""
    message = dns.message.from_wire(wire, one_rr_per_rrset=True)
    out = []
    for rrset in message.answer:
        name = rrset.name.to_text(omit_final_dot=True).lower() if len(rrset.name) > 1 else "."
        for rdata in rrset:
            rtype = dns.rdatatype.to_text(rdata.rdtype)
            if rtype in ("A", "AAAA", "TXT"):
                value = rdata.to_text()
            elif rtype in ("CNAME", "NS", "PTR", "DNAME"):
                value = _host(rdata.target)
            elif rtype == "MX":
                value = f"{rdata.preference} {_host(rdata.exchange)}"
            elif rtype == "SRV":
                value = f"{rdata.priority} {rdata.weight} {rdata.port} {_host(rdata.target)}"
            elif rtype == "SOA":
                value = (
                    f"{_host(rdata.mname)} {_host(rdata.rname)} {rdata.serial} {rdata.refresh} "
                    f"{rdata.retry} {rdata.expire} {rdata.minimum}"
                )
            else:
                value = rdata.to_wire().hex()
            out.append(Record(name, rtype, rrset.ttl, value))
    return out


def _host(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if len(name) > 1 else "."


def response_wire(qname: str, rrsets: list[dns.rrset.RRset], rcode: int = 0) -> bytes:
    query = dns.message.make_query(qname, "A", use_edns=0)
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.Rcode(rcode))
    response.answer = rrsets
    # a response may be bigger than the query's EDNS payload here: this is the wire format
    # under test, not truncation (dnspython would refuse it as TooBig at the query's size)
    return response.to_wire(max_size=65535)


# -- queries ------------------------------------------------------------------------------------


def test_query_as_dnspython_reads_it() -> None:
    wire = build_query(0xBEEF, "WWW.Example.COM.", "AAAA")
    message = dns.message.from_wire(wire)
    assert message.id == 0xBEEF
    assert message.flags == dns.flags.RD
    assert message.edns == 0 and message.payload == 1232
    assert message.question[0].to_text() == "www.example.com. IN AAAA"
    assert len(message.answer) == len(message.authority) == 0


@pytest.mark.parametrize("bad", ["a..b", ".a", "x" * 64, ("y" * 63 + ".") * 4, "bü\udcff.de"])
def test_names_that_cannot_be_sent(bad: str) -> None:
    with pytest.raises(InvalidName):
        encode_name(bad)


def test_root_and_idna() -> None:
    assert encode_name(".") == encode_name("") == b"\x00"
    assert encode_name("bücher.de") == b"\x0dxn--bcher-kva\x02de\x00"
    assert (
        encode_name(("y" * 63 + ".") * 3 + "z" * 61)
        == dns.name.from_text(("y" * 63 + ".") * 3 + "z" * 61).to_wire()
    )


def test_type_codes() -> None:
    assert type_code("aaaa") == 28 and type_code("TYPE65280") == 65280
    assert type_name(28) == "AAAA" and type_name(65280) == "TYPE65280"
    with pytest.raises(ValueError):
        type_code("TYPE70000")


# -- responses ----------------------------------------------------------------------------------


def test_parse_header_question_and_answers() -> None:
    rrsets = [
        dns.rrset.from_text("WWW.example.com.", 60, "IN", "CNAME", "edge.CDN.example.net."),
        dns.rrset.from_text("edge.cdn.example.net.", 20, "IN", "A", "192.0.2.1"),
        dns.rrset.from_text("edge.cdn.example.net.", 20, "IN", "AAAA", "2001:db8:0:0:0::1"),
        dns.rrset.from_text("example.com.", 5, "IN", "MX", "0 ."),
        dns.rrset.from_text("example.com.", 5, "IN", "SOA", "ns.x. h.x. 2024 1 2 3 4"),
        dns.rrset.from_text("example.com.", 5, "IN", "TXT", '"v=spf1 -all" "a\\"b"'),
        dns.rrset.from_text("example.com.", 5, "IN", "CAA", '0 issue "ca.example"'),
    ]
    query = dns.message.make_query("www.EXAMPLE.com", "A")
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    response.answer = rrsets
    parsed = parse_response(response.to_wire())
    assert (parsed.id, parsed.rcode, parsed.tc, parsed.aa) == (query.id, 0, False, True)
    assert (parsed.qname, parsed.qtype, parsed.qclass) == ("www.example.com", 1, 1)
    assert [r.value for r in parsed.records] == [
        "edge.cdn.example.net",
        "192.0.2.1",
        "2001:db8::1",
        "0 .",
        "ns.x h.x 2024 1 2 3 4",
        '"v=spf1 -all" "a\\"b"',
        "0005697373756563612e6578616d706c65",
    ]
    assert list(parsed.records) == dnspython_records(response.to_wire())


def test_rcode_and_tc() -> None:
    query = dns.message.make_query("a.example", "A")
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.NXDOMAIN)
    response.flags |= dns.flags.TC
    parsed = parse_response(response.to_wire())
    assert parsed.rcode == 3 and parsed.tc and parsed.records == ()


label_bytes = st.binary(min_size=1, max_size=20) | st.text(LDH, min_size=1, max_size=63).map(
    str.encode
)
names = st.lists(label_bytes, min_size=1, max_size=4).map(lambda ls: dns.name.Name([*ls, b""]))
ttls = st.integers(0, 2**31 - 1)


@st.composite
def rrsets(draw: st.DrawFn) -> dns.rrset.RRset:
    owner = draw(names)
    kind = draw(st.sampled_from(["A", "AAAA", "CNAME", "NS", "MX", "SOA", "TXT", "SRV", "X"]))
    rdclass = dns.rdataclass.IN
    if kind == "A":
        values = [f"192.0.2.{i}" for i in draw(st.sets(st.integers(0, 255), min_size=1))]
    elif kind == "AAAA":
        values = [
            dns.ipv6.inet_ntoa(b)
            for b in draw(st.sets(st.binary(min_size=16, max_size=16), min_size=1, max_size=3))
        ]
    elif kind in ("CNAME", "NS"):
        values = [draw(names).to_text()]
    elif kind == "MX":
        values = [f"{draw(st.integers(0, 65535))} {draw(names).to_text()}"]
    elif kind == "SRV":
        values = [f"1 2 {draw(st.integers(0, 65535))} {draw(names).to_text()}"]
    elif kind == "SOA":
        numbers = " ".join(str(draw(st.integers(0, 2**32 - 1))) for _ in range(5))
        values = [f"{draw(names).to_text()} {draw(names).to_text()} {numbers}"]
    elif kind == "TXT":
        strings = draw(st.lists(st.binary(max_size=30), min_size=1, max_size=3))
        rdata = dns.rdata.from_wire(
            rdclass, dns.rdatatype.TXT, b"".join(bytes([len(s)]) + s for s in strings), 0,
            sum(len(s) + 1 for s in strings),
        )  # fmt: skip
        return dns.rrset.from_rdata(owner, draw(ttls), rdata)
    else:
        blob = draw(st.binary(max_size=40))
        rdata = dns.rdata.from_wire(
            rdclass, dns.rdatatype.RdataType.make(65280), blob, 0, len(blob)
        )
        return dns.rrset.from_rdata(owner, draw(ttls), rdata)
    return dns.rrset.from_text_list(owner, draw(ttls), rdclass, kind, values)


@settings(max_examples=300, deadline=None)
@given(st.lists(rrsets(), max_size=6), names)
def test_matches_dnspython(answer: list[dns.rrset.RRset], qname: dns.name.Name) -> None:
    wire = response_wire(qname.to_text(), answer)
    parsed = parse_response(wire)
    assert list(parsed.records) == dnspython_records(wire)
    assert parsed.qname == _host(qname)


@settings(max_examples=50, deadline=None)
@given(st.lists(rrsets(), min_size=1, max_size=4))
def test_truncated_input_raises_malformed(answer: list[dns.rrset.RRset]) -> None:
    query = dns.message.make_query("q.example", "A", use_edns=False)
    response = dns.message.make_response(query)
    response.answer = answer
    wire = response.to_wire()
    for cut in range(len(wire)):
        with pytest.raises(MalformedMessage):
            parse_response(wire[:cut])


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_raises_only_malformed(data: bytes) -> None:
    with contextlib.suppress(MalformedMessage):
        parse_response(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=12, max_size=200), st.integers(1, 6))
def test_garbage_after_a_header(body: bytes, ancount: int) -> None:
    header = struct.pack("!HHHHHH", 1, 0x8180, 1, ancount, 0, 0)
    with contextlib.suppress(MalformedMessage):
        parse_response(header + body)


HEADER = struct.pack("!HHHHHH", 7, 0x8180, 1, 0, 0, 0)


@pytest.mark.parametrize(
    "name",
    [
        b"\xc0\x0c",  # points at itself
        b"\xc0\x0e\x00",  # points forwards
        b"\x01a\xc0\x0c",  # loops back to its own start
        b"\x40abc",  # reserved label type 01
        b"\x80abc",  # reserved label type 10
        b"\x05ab",  # label cut short
        b"\x01a",  # no terminating zero
        b"\xc0",  # pointer cut short
    ],
)
def test_bad_names(name: bytes) -> None:
    with pytest.raises(MalformedMessage):
        read_name(HEADER + name, 12)


def test_name_over_255_bytes_via_pointers() -> None:
    # Four 63-byte labels written once each, chained by backward pointers: 257 bytes in all.
    data = bytearray(HEADER)
    previous = None
    for _ in range(4):
        start = len(data)
        data += b"\x3f" + b"x" * 63
        data += (0xC000 | previous).to_bytes(2, "big") if previous is not None else b"\x00"
        previous = start
    assert previous is not None
    with pytest.raises(MalformedMessage):
        read_name(bytes(data) + (0xC000 | previous).to_bytes(2, "big"), len(data))


def test_escaped_labels() -> None:
    wire = dns.name.Name([b"A.b", b"c d\xff", b""]).to_wire() or b""
    assert read_name(HEADER + wire, 12) == ("a\\.b.c\\032d\\255", 12 + len(wire))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda w: w[:2] + bytes([w[2] & 0x7F]) + w[3:],  # QR cleared: a query
        lambda w: w[:11],  # shorter than a header
    ],
)
def test_not_a_response(mutate: object) -> None:
    wire = response_wire("a.example", [])
    with pytest.raises(MalformedMessage):
        parse_response(mutate(wire))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("rtype", "value"),
    [("A", "192.0.2.1"), ("AAAA", "2001:db8::1"), ("CNAME", "b.example."), ("MX", "1 b.example.")],
)
def test_rdata_length_must_match(rtype: str, value: str) -> None:
    query = dns.message.make_query("a.example", rtype, use_edns=False)
    response = dns.message.make_response(query)
    response.answer = [dns.rrset.from_text("a.example.", 1, "IN", rtype, value)]
    wire = response.to_wire()
    # header, question (name, type, class), owner pointer, type, class, ttl
    rdlength_at = 12 + len(encode_name("a.example")) + 4 + 2 + 8
    rdlength = int.from_bytes(wire[rdlength_at : rdlength_at + 2], "big")
    longer = wire[:rdlength_at] + (rdlength + 1).to_bytes(2, "big") + wire[rdlength_at + 2 :]
    assert parse_response(wire).records[0].rtype == rtype
    with pytest.raises(MalformedMessage):
        parse_response(longer + b"\x00")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(LDH, min_size=1, max_size=63), min_size=1, max_size=3))
def test_encode_name_as_dnspython(labels: list[str]) -> None:
    name = ".".join(labels)
    assert encode_name(name) == dns.name.from_text(name.lower()).to_wire()
    assert encode_name(name + ".") == encode_name(name.upper())
