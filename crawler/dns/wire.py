"""DNS messages by hand: a query builder and a fast, minimal response parser.

Why not dnspython here: building and parsing a full :class:`dns.message.Message` costs tens of
microseconds, which caps a single-core crawl at a few thousand queries per second. A crawl only
needs the header, the question (to match a reply to its query) and the answer section as text,
so this module reads exactly that and nothing else (the authority and additional sections,
EDNS options and extended rcodes are not read).

Text forms follow dnspython's ``to_text`` so that the two can be compared in tests: host names
lower-case without the trailing dot (the root is ``"."``), unusual label bytes escaped as
``\\DDD``; AAAA in compressed form; MX ``"pref host"``; SOA ``"mname rname serial refresh retry
expire minimum"``; TXT as quoted strings; unknown types as the hex of their rdata.

Every malformed input raises :class:`~crawler.dns.errors.MalformedMessage`, never an
``IndexError`` or an endless loop: compression pointers must point strictly backwards (as in
dnspython) and names are limited to 255 bytes.
"""

from __future__ import annotations

import logging
import socket
import struct
from dataclasses import dataclass

from crawler.dns.errors import InvalidName, MalformedMessage

logger = logging.getLogger(__name__)

TYPE_CODES: dict[str, int] = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
    "SRV": 33, "DNAME": 39, "OPT": 41, "DS": 43, "RRSIG": 46, "DNSKEY": 48, "SVCB": 64,
    "HTTPS": 65, "ANY": 255, "CAA": 257,
}  # fmt: skip
TYPE_NAMES: dict[int, str] = {code: name for name, code in TYPE_CODES.items()}

EDNS_PAYLOAD = 1232
"""Advertised UDP payload size (the DNS Flag Day 2020 value: no IP fragmentation)."""

FLAG_QR = 0x8000
FLAG_AA = 0x0400
FLAG_TC = 0x0200
FLAG_RD = 0x0100

# After the ID: flags RD, QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 1 (the OPT record).
_QUERY_HEADER_TAIL = struct.pack("!HHHHH", FLAG_RD, 1, 0, 0, 1)
# OPT pseudo-record: root owner, TYPE 41, CLASS = payload size, TTL = ext-rcode/version/flags 0.
_OPT_RECORD = b"\x00" + struct.pack("!HHIH", 41, EDNS_PAYLOAD, 0, 0)

_RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength
_SOA_TAIL = struct.Struct("!IIIII")
_HEADER = struct.Struct("!HHHHHH")

# Label bytes that print as themselves; everything else is escaped like dnspython does.
_PLAIN_BYTES = bytes(c for c in range(0x21, 0x7F) if c not in b'"().;\\@$')
_ESCAPED_SPECIALS = frozenset(b'"().;\\@$')
_PLAIN_OR_DOT = _PLAIN_BYTES + b"."


def type_code(rtype: str) -> int:
    """The numeric code of a record type mnemonic (``"AAAA"`` -> 28, ``"TYPE99"`` -> 99)."""
    upper = rtype.upper()
    code = TYPE_CODES.get(upper)
    if code is not None:
        return code
    if upper.startswith("TYPE") and upper[4:].isdigit() and int(upper[4:]) < 65536:
        return int(upper[4:])
    raise ValueError(f"unknown DNS record type {rtype!r}")


def type_name(code: int) -> str:
    """The mnemonic of a record type code (28 -> ``"AAAA"``, unknown 99 -> ``"TYPE99"``)."""
    return TYPE_NAMES.get(code) or f"TYPE{code}"


def encode_name(name: str) -> bytes:
    """Encode a host name in wire form, lower-cased (the engine matches replies on that form).

    A trailing dot is accepted; ``""`` and ``"."`` are the root. Non-ASCII names go through
    IDNA 2003 (top lists normally hold A-labels already).

    :raises InvalidName: on an empty label, a label over 63 bytes or a name over 255 bytes.
    """
    if name in ("", "."):
        return b"\x00"
    if name.endswith("."):
        name = name[:-1]
    try:
        raw = name.lower().encode("ascii")
    except UnicodeEncodeError:
        try:
            raw = name.encode("idna").lower()
        except UnicodeError as exc:
            raise InvalidName(f"cannot encode {name!r}: {exc}") from None
    out = bytearray()
    for label in raw.split(b"."):
        size = len(label)
        if size == 0 or size > 63:
            raise InvalidName(f"bad label length {size} in {name!r}")
        out.append(size)
        out += label
    out.append(0)
    if len(out) > 255:
        raise InvalidName(f"name longer than 255 bytes: {name!r}")
    return bytes(out)


def encode_question(qname: str, qtype: str | int) -> bytes:
    """The question section (name, type, class IN) for ``qname``/``qtype`` in wire form."""
    code = qtype if isinstance(qtype, int) else type_code(qtype)
    return encode_name(qname) + struct.pack("!HH", code, 1)


def query_tail(question: bytes) -> bytes:
    """A whole query message except its first two bytes (the ID), for fast re-sends."""
    return _QUERY_HEADER_TAIL + question + _OPT_RECORD


def build_query(txid: int, qname: str, qtype: str | int) -> bytes:
    """A query message: ID ``txid``, RD set, one question, an EDNS0 OPT record (1232 bytes)."""
    return txid.to_bytes(2, "big") + query_tail(encode_question(qname, qtype))


@dataclass(frozen=True, slots=True)
class Record:
    """One answer record as text: owner name, type mnemonic, TTL and value."""

    name: str
    rtype: str
    ttl: int
    value: str


@dataclass(frozen=True, slots=True)
class Response:
    """The parts of a DNS response that a crawl needs.

    ``qname`` is ``""`` and ``qtype``/``qclass`` are 0 when the reply carries no question
    (some servers send FORMERR or REFUSED that way).
    """

    id: int
    rcode: int
    tc: bool
    aa: bool
    qname: str
    qtype: int
    qclass: int
    records: tuple[Record, ...]


def _escape_label(label: bytes) -> str:
    parts: list[str] = []
    for c in label:
        if c in _ESCAPED_SPECIALS:
            parts.append("\\" + chr(c))
        elif 0x20 < c < 0x7F:
            parts.append(chr(c))
        else:
            parts.append(f"\\{c:03d}")
    return "".join(parts)


def read_name(data: bytes, pos: int) -> tuple[str, int]:
    """Read a possibly compressed name at ``pos``; return its text and the offset after it.

    :raises MalformedMessage: on a truncated name, a reserved label type, a pointer that does
        not point strictly backwards (which rules out loops) or a name over 255 bytes.
    """
    labels: list[bytes] = []
    end = -1
    limit = pos
    total = 1
    size = len(data)
    while True:
        if pos >= size:
            raise MalformedMessage("name runs past the end of the message")
        length = data[pos]
        if length == 0:
            if end < 0:
                end = pos + 1
            break
        if length < 64:
            start = pos + 1
            pos = start + length
            total += length + 1
            if pos > size:
                raise MalformedMessage("label runs past the end of the message")
            if total > 255:
                raise MalformedMessage("name longer than 255 bytes")
            labels.append(data[start:pos])
        elif length >= 0xC0:
            if pos + 1 >= size:
                raise MalformedMessage("compression pointer runs past the end of the message")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if end < 0:
                end = pos + 2
            if target >= limit:
                raise MalformedMessage("compression pointer does not point backwards")
            limit = pos = target
        else:
            raise MalformedMessage(f"reserved label type {length:#x}")
    if not labels:
        return ".", end
    raw = b".".join(labels).lower()
    # Fast path: only ordinary bytes, and no label holds a dot of its own.
    if not raw.translate(None, _PLAIN_OR_DOT) and raw.count(b".") == len(labels) - 1:
        return raw.decode("ascii"), end
    return ".".join(_escape_label(label.lower()) for label in labels), end


def _txt(data: bytes, pos: int, end: int) -> str:
    strings: list[str] = []
    while pos < end:
        length = data[pos]
        pos += 1
        if pos + length > end:
            raise MalformedMessage("TXT string runs past its rdata")
        chunk = data[pos : pos + length]
        pos += length
        text = "".join(
            "\\" + chr(c) if c in b'"\\' else chr(c) if 0x20 <= c < 0x7F else f"\\{c:03d}"
            for c in chunk
        )
        strings.append(f'"{text}"')
    return " ".join(strings)


def _rdata_text(data: bytes, rtype: int, pos: int, end: int) -> str:
    """The text of one record's rdata in ``data[pos:end]``."""
    rdlen = end - pos
    if rtype == 1:
        if rdlen != 4:
            raise MalformedMessage("A rdata is not 4 bytes")
        return socket.inet_ntop(socket.AF_INET, data[pos:end])
    if rtype == 28:
        if rdlen != 16:
            raise MalformedMessage("AAAA rdata is not 16 bytes")
        return socket.inet_ntop(socket.AF_INET6, data[pos:end])
    if rtype in (5, 2, 12, 39):  # CNAME, NS, PTR, DNAME
        host, after = read_name(data, pos)
        if after != end:
            raise MalformedMessage("name does not fill its rdata")
        return host
    if rtype == 15:  # MX
        if rdlen < 3:
            raise MalformedMessage("MX rdata too short")
        host, after = read_name(data, pos + 2)
        if after != end:
            raise MalformedMessage("MX name does not fill its rdata")
        return f"{(data[pos] << 8) | data[pos + 1]} {host}"
    if rtype == 6:  # SOA
        mname, after = read_name(data, pos)
        rname, after = read_name(data, after)
        if after + 20 != end:
            raise MalformedMessage("SOA rdata has the wrong length")
        numbers = _SOA_TAIL.unpack_from(data, after)
        return f"{mname} {rname} {numbers[0]} {numbers[1]} {numbers[2]} {numbers[3]} {numbers[4]}"
    if rtype == 16:
        return _txt(data, pos, end)
    if rtype == 33:  # SRV: priority weight port target (target never compressed)
        if rdlen < 7:
            raise MalformedMessage("SRV rdata too short")
        prio, weight, port = struct.unpack_from("!HHH", data, pos)
        host, after = read_name(data, pos + 6)
        if after != end:
            raise MalformedMessage("SRV name does not fill its rdata")
        return f"{prio} {weight} {port} {host}"
    return data[pos:end].hex()


def parse_records(data: bytes, pos: int, count: int) -> tuple[Record, ...]:
    """Parse ``count`` resource records starting at ``pos`` (the answer section).

    :raises MalformedMessage: when a record is cut short or its rdata is inconsistent.
    """
    records: list[Record] = []
    size = len(data)
    owners: dict[int, str] = {}  # owner names are nearly always one pointer to the question
    for _ in range(count):
        first = data[pos] if pos < size else 0
        if first >= 0xC0 and pos + 1 < size:
            target = ((first & 0x3F) << 8) | data[pos + 1]
            owner = owners.get(target)
            if owner is None:
                owner = owners[target] = read_name(data, pos)[0]
            pos += 2
        else:
            owner, pos = read_name(data, pos)
        if pos + 10 > size:
            raise MalformedMessage("record header runs past the end of the message")
        rtype, _rclass, ttl, rdlen = _RR_FIXED.unpack_from(data, pos)
        pos += 10
        end = pos + rdlen
        if end > size:
            raise MalformedMessage("rdata runs past the end of the message")
        records.append(Record(owner, type_name(rtype), ttl, _rdata_text(data, rtype, pos, end)))
        pos = end
    return tuple(records)


def parse_response(data: bytes) -> Response:
    """Parse a response: header, (first) question and the answer section.

    :raises MalformedMessage: when ``data`` is not a well-formed DNS response.
    """
    if len(data) < 12:
        raise MalformedMessage("shorter than a DNS header")
    txid, flags, qdcount, ancount, _nscount, _arcount = _HEADER.unpack_from(data, 0)
    if not flags & FLAG_QR:
        raise MalformedMessage("QR bit not set: a query, not a response")
    pos = 12
    qname, qtype, qclass = "", 0, 0
    for index in range(qdcount):
        name, pos = read_name(data, pos)
        if pos + 4 > len(data):
            raise MalformedMessage("question runs past the end of the message")
        if index == 0:
            qname = name
            qtype, qclass = struct.unpack_from("!HH", data, pos)
        pos += 4
    records = parse_records(data, pos, ancount)
    return Response(
        id=txid,
        rcode=flags & 0xF,
        tc=bool(flags & FLAG_TC),
        aa=bool(flags & FLAG_AA),
        qname=qname,
        qtype=qtype,
        qclass=qclass,
        records=records,
    )
