"""A DNS fault proxy on loopback: forwards to an upstream resolver and misbehaves on purpose.

UDP and TCP on one loopback port (port 0, read back). Each question ``(qname, qtype)`` is
either passed through untouched (bytes forwarded, the ID swapped) or given one
:class:`FaultKind`, chosen deterministically from a hash of the question (a rate such as 10%)
or named explicitly; retries of a question get the same fault, so "retries bounded" can be
counted here. Every question seen and every fault injected is counted, with the upstream's own
status for the question when the fault still forwards it, so that a crawl's stored rows can be
checked against what really happened on the wire (:meth:`FaultProxy.faulted`).

Built with dnspython for the faults only (a pass-through costs an ID swap), sharing no code with
the engine under test. Run it alone (the soak does, in a process of its own)::

    python -m scripts.faults.dns_proxy --upstream 127.0.0.1:5353 --rate 0.1 --port-file p --report r.json

It writes its port to ``--port-file`` once listening and its counts to ``--report`` on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from scripts.faults.background import serving

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
POISON_V4 = "198.51.100.66"
POISON_V6 = "2001:db8:dead::66"
#: labels of the HOSTILE kind's host names: markup, quotes and SQL, as a server may send them
HOSTILE_LABELS = (b"<script>alert(1)</script>", b"x'or'1'='1\"--", b"</td><img src=x onerror=alert(2)>")
_STALE = 30.0  # seconds after which a forwarded question with no upstream reply is forgotten
_BUFFER = 4 << 20
PAD_RECORDS = 80
_PAD_OWNER = b"\x03pad\x09oversized\x07invalid\x00"
_PADDING = b"".join(
    _PAD_OWNER + struct.pack("!HHIH", 16, 1, 60, 65) + bytes([64]) + f"{i:03d}-".encode() + b"x" * 60
    for i in range(PAD_RECORDS)
)


class FaultKind(StrEnum):
    """How the proxy misbehaves for one question."""

    DROP = "drop"  # no answer at all, over UDP or TCP
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TRUNCATE = "truncate"  # TC over UDP, the real answer over TCP
    TRUNCATE_TCP_FAIL = "truncate_tcp_fail"  # TC over UDP, the TCP connection closed unanswered
    SPOOF_ID = "spoof_id"  # a forged reply with another ID (and poison) first, then the real one
    SPOOF_NAME = "spoof_name"  # a forged reply to another name (and poison) first, then the real one
    OVERSIZED = "oversized"  # the answer padded to ~6 KB: TC over UDP (over the EDNS size), all of it over TCP
    CNAME_LOOP = "cname_loop"  # qname -> loop.qname -> qname
    CNAME_CHAIN = "cname_chain"  # 30 CNAME steps before the real answer
    SLOW = "slow"  # the real answer after ``slow_delay`` (under the client's timeout)
    LATE = "late"  # the first attempt answered after ``late_delay`` (over the timeout), the retry at once
    LAME = "lame"  # an upward referral from a server that neither recurses nor is authoritative
    HOSTILE = "hostile"  # MX/NS hosts named with markup, quotes and SQL (for output-safety checks)


#: the kinds a rate-based plan draws from (HOSTILE changes data, so it is only ever named)
RANDOM_KINDS: tuple[FaultKind, ...] = tuple(k for k in FaultKind if k is not FaultKind.HOSTILE)
_ADDRESS_ONLY = frozenset({FaultKind.CNAME_LOOP, FaultKind.CNAME_CHAIN})
_HOST_ONLY = frozenset({FaultKind.HOSTILE})
#: kinds answered by the proxy itself over UDP, without asking upstream
_SELF_MADE_UDP = frozenset({
    FaultKind.SERVFAIL, FaultKind.REFUSED, FaultKind.TRUNCATE, FaultKind.TRUNCATE_TCP_FAIL,
    FaultKind.OVERSIZED, FaultKind.CNAME_LOOP, FaultKind.LAME, FaultKind.HOSTILE,
})
_SELF_MADE_TCP = frozenset({
    FaultKind.SERVFAIL, FaultKind.REFUSED, FaultKind.CNAME_LOOP, FaultKind.LAME, FaultKind.HOSTILE,
})


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a correct stub engine records for a question given a fault.

    :ivar status: the status stored, or None for "the upstream's own status" (the fault must not
        change the outcome).
    :ivar transport: ``udp``/``tcp`` when the fault decides it.
    :ivar min_attempts: attempts the engine must have made (a retry after a late answer).
    """

    status: str | None
    transport: str | None = None
    min_attempts: int = 1


EXPECTED: dict[FaultKind, Expectation] = {
    FaultKind.DROP: Expectation("TIMEOUT", "udp"),
    FaultKind.SERVFAIL: Expectation("SERVFAIL"),
    FaultKind.REFUSED: Expectation("REFUSED"),
    FaultKind.TRUNCATE: Expectation(None, "tcp"),
    FaultKind.TRUNCATE_TCP_FAIL: Expectation("TRUNCATED", "tcp"),
    FaultKind.SPOOF_ID: Expectation(None, "udp"),
    FaultKind.SPOOF_NAME: Expectation(None, "udp"),
    FaultKind.OVERSIZED: Expectation(None, "tcp"),
    FaultKind.CNAME_LOOP: Expectation("CNAME_LOOP"),
    FaultKind.CNAME_CHAIN: Expectation(None),
    FaultKind.SLOW: Expectation(None, "udp"),
    FaultKind.LATE: Expectation(None, "udp", min_attempts=2),
    FaultKind.LAME: Expectation("LAME"),
    FaultKind.HOSTILE: Expectation("NOERROR"),
}


def expected_status(kind: FaultKind, upstream: str | None) -> str | None:
    """The status a correct engine stores for ``kind`` when the upstream said ``upstream``."""
    exp = EXPECTED[kind].status
    if exp is not None:
        return exp
    if kind is FaultKind.CNAME_CHAIN and upstream == "NODATA":
        return "NOERROR"  # the chain itself is an answer
    return upstream


def applicable(kind: FaultKind, qtype: str) -> bool:
    """Whether ``kind`` makes sense for a question of ``qtype``."""
    if kind in _ADDRESS_ONLY:
        return qtype in ("A", "AAAA")
    if kind in _HOST_ONLY:
        return qtype in ("MX", "NS")
    return True


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Which questions get which fault, and the fault's parameters.

    :param rate: share of questions (0..1) given a fault drawn from ``kinds``, by a hash of
        ``(seed, qname, qtype)``; the same question always draws the same fault.
    :param names: explicit faults, ``(qname, qtype) -> kind`` (``qtype`` ``"*"``: every type),
        taking precedence over the rate.
    """

    rate: float = 0.0
    kinds: tuple[FaultKind, ...] = RANDOM_KINDS
    seed: int = 0
    names: Mapping[tuple[str, str], FaultKind] = field(default_factory=dict)
    slow_delay: float = 0.3
    late_delay: float = 1.5
    chain_length: int = 30

    def choose(self, qname: str, qtype: str) -> FaultKind | None:
        """The fault for a question, or None to pass it through."""
        named = self.names.get((qname, qtype)) or self.names.get((qname, "*"))
        if named is not None:
            return named if applicable(named, qtype) else None
        if self.rate <= 0 or not self.kinds:
            return None
        digest = hashlib.blake2b(f"{self.seed}|{qname}|{qtype}".encode(), digest_size=16).digest()
        if int.from_bytes(digest[:8], "big") >= self.rate * 2**64:
            return None
        fits = [k for k in self.kinds if applicable(k, qtype)]
        return fits[int.from_bytes(digest[8:], "big") % len(fits)] if fits else None


@dataclass(slots=True)
class Injected:
    """One question given a fault: its kind, the attempts seen, the upstream's status."""

    kind: FaultKind
    udp: int = 0
    tcp: int = 0
    upstream: str | None = None


@dataclass(slots=True)
class _Forward:
    client: tuple[Any, ...]
    client_id: bytes
    key: tuple[str, str]
    kind: FaultKind | None
    query: bytes
    sent: float
    late: bool = False
    future: asyncio.Future[bytes] | None = None  # a TCP leg waiting for the upstream's UDP answer


_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 15: "MX", 16: "TXT", 28: "AAAA"}


def parse_question(data: bytes) -> tuple[str, str] | None:
    """``(qname, qtype)`` of a query in wire form (lower-case, no trailing dot), or None."""
    if len(data) < 17:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(data):
            return None
        size = data[pos]
        if size == 0:
            pos += 1
            break
        if size > 63:
            return None  # queries never compress their question
        labels.append(data[pos + 1 : pos + 1 + size].decode("latin-1").lower())
        pos += 1 + size
    if pos + 4 > len(data):
        return None
    code = int.from_bytes(data[pos : pos + 2], "big")
    qtype = _TYPES.get(code) or dns.rdatatype.to_text(dns.rdatatype.RdataType.make(code))
    return ".".join(labels) or ".", qtype


def status_of(wire: bytes) -> str:
    """The status a reply means (NOERROR with an empty answer is NODATA)."""
    try:
        msg = dns.message.from_wire(wire, ignore_trailing=True)
    except Exception:
        return "MALFORMED"
    rcode = dns.rcode.to_text(msg.rcode())
    if rcode == "NOERROR" and not msg.answer:
        return "NODATA"
    return rcode


class FaultProxy:
    """The proxy; use it from a running event loop (or through :func:`running_proxy`).

    :param upstream: ``(ip, port)`` of the resolver to forward to.
    :param plan: which questions misbehave, and how.
    """

    def __init__(self, upstream: tuple[str, int], plan: FaultPlan | None = None) -> None:
        self.upstream = upstream
        self.plan = plan or FaultPlan()
        self.address: tuple[str, int] = (LOOPBACK, 0)
        self.queries: Counter[tuple[str, str]] = Counter()
        self.injected: dict[tuple[str, str], Injected] = {}
        self.sent_udp = 0
        self._lock = threading.Lock()
        self._inflight: dict[int, _Forward] = {}
        self._ids = itertools.count()
        self.send_errors = 0
        self._udp: socket.socket | None = None
        self._up: socket.socket | None = None
        self._tcp: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._tcp_slots = asyncio.Semaphore(8)
        self._held: list[tuple[bytes, tuple[Any, ...]]] | None = None

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self, port: int = 0) -> tuple[str, int]:
        """Listen on loopback (UDP and TCP on one port); return the address."""
        loop = self._loop = asyncio.get_running_loop()
        up = _udp_socket()
        up.connect(self.upstream)
        for _ in range(20):  # TCP must get the port UDP got; retry in the rare clash
            sock = _udp_socket()
            sock.bind((LOOPBACK, port))
            bound = sock.getsockname()[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, LOOPBACK, bound, backlog=4096)
            except OSError:
                sock.close()
                if port:
                    raise
                continue
            break
        else:
            raise RuntimeError("no free port for UDP and TCP")
        self._udp, self._up = sock, up
        # Drain each socket on one wake-up (as the engine does): a transport's one datagram per
        # loop turn would leave a burst of thousands of questions queued long enough to time out.
        loop.add_reader(sock.fileno(), self._drain, sock, self._on_query)
        loop.add_reader(up.fileno(), self._drain, up, self._on_upstream)
        self._sweeper = asyncio.ensure_future(self._sweep())
        self.address = (LOOPBACK, bound)
        return self.address

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for sock in (self._udp, self._up):
            if sock is not None:
                if self._loop is not None and not self._loop.is_closed():
                    self._loop.remove_reader(sock.fileno())
                sock.close()
        self._udp = self._up = None
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tcp.wait_closed(), 2)

    def _drain(self, sock: socket.socket, handle: Callable[[bytes, tuple[Any, ...]], None]) -> None:
        for _ in range(512):
            try:
                data, addr = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # an ICMP error reported on the socket
                logger.debug("fault proxy: %s", exc)
                return
            try:
                handle(data, addr)
            except Exception:
                logger.exception("fault proxy: datagram from %s", addr)

    def _send(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if self._udp is None:
            return
        try:
            self._udp.sendto(data, addr)
        except OSError:  # a full buffer: lost on the way, as UDP may be (counted)
            self.send_errors += 1

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(5)
            cutoff = time.monotonic() - _STALE
            for pid in [p for p, f in self._inflight.items() if f.sent < cutoff]:
                del self._inflight[pid]

    # -- counts -------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Questions given each fault (a question retried counts once)."""
        with self._lock:
            found = Counter(str(i.kind) for i in self.injected.values())
        return dict(sorted(found.items()))

    def faulted(self) -> list[tuple[str, str, str, int, int, str | None]]:
        """``(qname, qtype, kind, udp attempts, tcp attempts, upstream status)`` per faulted question."""
        with self._lock:
            return [(q, t, str(i.kind), i.udp, i.tcp, i.upstream) for (q, t), i in self.injected.items()]

    def report(self, *, questions: bool = False) -> dict[str, Any]:
        """Every count, JSON-ready: ``faulted`` lists each faulted question, and with
        ``questions`` every question seen is listed too."""
        with self._lock:
            seen, total = list(self.queries), sum(self.queries.values())
        out = {"upstream": f"{self.upstream[0]}:{self.upstream[1]}", "questions": len(seen), "queries": total,
               "send_errors": self.send_errors, "injected": self.counts(), "faulted": self.faulted()}
        if questions:
            out["seen"] = seen
        return out

    def _mark(self, key: tuple[str, str], kind: FaultKind | None, transport: str) -> Injected | None:
        with self._lock:
            self.queries[key] += 1
            if kind is None:
                return None
            found = self.injected.get(key)
            if found is None:
                found = self.injected[key] = Injected(kind)
            if transport == "udp":
                found.udp += 1
            else:
                found.tcp += 1
            return found

    def _upstream_said(self, key: tuple[str, str], wire: bytes) -> None:
        status = status_of(wire)
        with self._lock:
            if key in self.injected:
                self.injected[key].upstream = status

    # -- holding ------------------------------------------------------------------------------

    def hold(self) -> None:
        """Keep every UDP question unanswered (queued) until :meth:`release`: a crawl that stays
        busy exactly as long as a test needs it to (give it a timeout longer than the hold)."""
        if self._held is None:
            self._held = []

    @property
    def holding(self) -> int:
        """Questions held so far (0 when not holding)."""
        return len(self._held or ())

    def release(self) -> None:
        """Answer the held questions and stop holding (thread-safe)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._release)

    def _release(self) -> None:
        held, self._held = self._held or [], None
        for data, addr in held:
            self._on_query(data, addr)

    # -- UDP ----------------------------------------------------------------------------------

    def _on_query(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if self._held is not None:
            self._held.append((data, addr))
            return
        question = parse_question(data)
        if question is None:
            return
        kind = self.plan.choose(*question)
        record = self._mark(question, kind, "udp")
        if kind is FaultKind.DROP:
            return
        if kind in _SELF_MADE_UDP:
            self._send(self._self_made(data, kind, tcp=False), addr)
            return
        pid = self._proxy_id()
        self._inflight[pid] = _Forward(addr, data[:2], question, kind, data, time.monotonic(),
                                       late=kind is FaultKind.LATE and record is not None and record.udp == 1)
        if self._up is not None:
            try:
                self._up.send(pid.to_bytes(2, "big") + data[2:])
                self.sent_udp += 1
            except OSError:
                self.send_errors += 1

    def _proxy_id(self) -> int:
        for _ in range(65536):
            pid = next(self._ids) & 0xFFFF
            if pid not in self._inflight:
                return pid
        raise RuntimeError("65,536 questions in flight upstream")

    def _on_upstream(self, data: bytes, _addr: tuple[Any, ...]) -> None:
        if len(data) < 12:
            return
        fwd = self._inflight.pop(int.from_bytes(data[:2], "big"), None)
        if fwd is None:
            return
        reply = fwd.client_id + data[2:]
        if fwd.future is not None:
            if not fwd.future.done():
                fwd.future.set_result(reply)
            return
        kind = fwd.kind
        if kind is None:
            self._send(reply, fwd.client)
            return
        self._upstream_said(fwd.key, reply)
        if kind is FaultKind.SPOOF_ID:
            forged = self._poisoned(fwd.query, other_name=False)
            wrong = (int.from_bytes(fwd.client_id, "big") ^ 0x5A5A).to_bytes(2, "big")
            self._send(wrong + forged[2:], fwd.client)
        elif kind is FaultKind.SPOOF_NAME:
            self._send(self._poisoned(fwd.query, other_name=True), fwd.client)
        elif kind is FaultKind.CNAME_CHAIN:
            reply = self._chained(reply)
        if kind is FaultKind.SLOW or fwd.late:
            delay = self.plan.slow_delay if kind is FaultKind.SLOW else self.plan.late_delay
            assert self._loop is not None
            self._loop.call_later(delay, self._send, reply, fwd.client)
            return
        self._send(reply, fwd.client)

    # -- TCP ----------------------------------------------------------------------------------

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = int.from_bytes(await reader.readexactly(2), "big")
                data = await reader.readexactly(size)
                question = parse_question(data)
                if question is None:
                    break
                kind = self.plan.choose(*question)
                self._mark(question, kind, "tcp")
                if kind in (FaultKind.DROP, FaultKind.TRUNCATE_TCP_FAIL):
                    break
                if kind in _SELF_MADE_TCP:
                    reply = self._self_made(data, kind, tcp=True)
                else:
                    reply = await self._ask_tcp(data)
                    if kind is not None:
                        self._upstream_said(question, reply)
                    if kind is FaultKind.OVERSIZED:
                        reply = self._padded(reply)
                    elif kind is FaultKind.CNAME_CHAIN:
                        reply = self._chained(reply)
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()

    async def _ask_tcp(self, data: bytes) -> bytes:
        """The upstream's answer for a TCP leg: asked over UDP (a resolver takes few TCP
        connections at once), over TCP only when that answer is truncated too."""
        assert self._loop is not None and self._up is not None
        future: asyncio.Future[bytes] = self._loop.create_future()
        pid = self._proxy_id()
        question = parse_question(data) or ("", "")
        self._inflight[pid] = _Forward(("", 0), data[:2], question, None, data, time.monotonic(), future=future)
        self._up.send(pid.to_bytes(2, "big") + data[2:])
        try:
            reply = await asyncio.wait_for(future, 5)
        finally:
            self._inflight.pop(pid, None)
        if not int.from_bytes(reply[2:4], "big") & 0x0200:
            return reply
        async with self._tcp_slots:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(*self.upstream), 5)
            try:
                writer.write(len(data).to_bytes(2, "big") + data)
                size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), 5), "big")
                return await asyncio.wait_for(reader.readexactly(size), 5)
            finally:
                writer.close()

    # -- forged and altered messages ----------------------------------------------------------

    def _self_made(self, data: bytes, kind: FaultKind | None, *, tcp: bool) -> bytes:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        question = query.question[0]
        name = question.name
        if kind is FaultKind.SERVFAIL:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif kind is FaultKind.REFUSED:
            response.set_rcode(dns.rcode.REFUSED)
        elif kind in (FaultKind.TRUNCATE, FaultKind.TRUNCATE_TCP_FAIL, FaultKind.OVERSIZED):
            response.flags |= dns.flags.TC
        elif kind is FaultKind.CNAME_LOOP:
            loop_name = dns.name.Name((b"loop", *name.labels))
            response.answer = [_rrset(name, "CNAME", loop_name.to_text()), _rrset(loop_name, "CNAME", name.to_text())]
        elif kind is FaultKind.LAME:
            response.flags &= ~(dns.flags.RA | dns.flags.AA)
            response.authority = [_rrset(dns.name.root, "NS", "a.root-servers.net.")]
        elif kind is FaultKind.HOSTILE:
            digest = hashlib.blake2b(name.to_text().encode(), digest_size=2).digest()
            label = HOSTILE_LABELS[int.from_bytes(digest, "big") % len(HOSTILE_LABELS)]
            host = dns.name.Name((b"mx" if question.rdtype == dns.rdatatype.MX else b"ns", label, b"com", b""))
            value = f"10 {host.to_text()}" if question.rdtype == dns.rdatatype.MX else host.to_text()
            response.answer = [_rrset(name, dns.rdatatype.to_text(question.rdtype), value)]
        return response.to_wire(max_size=65535)

    def _poisoned(self, query_wire: bytes, *, other_name: bool) -> bytes:
        """A forged reply carrying poison: for another name, or (sent with another ID) for this one."""
        query = dns.message.from_wire(query_wire)
        question = query.question[0]
        name = dns.name.Name((b"spoofed", *question.name.labels)) if other_name else question.name
        forged = dns.message.make_query(name, question.rdtype)
        forged.id = query.id
        response = dns.message.make_response(forged)
        response.flags |= dns.flags.RA
        if question.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            poison = POISON_V4 if question.rdtype == dns.rdatatype.A else POISON_V6
            response.answer = [_rrset(question.name, dns.rdatatype.to_text(question.rdtype), poison)]
        else:
            response.set_rcode(dns.rcode.SERVFAIL)
        return response.to_wire(max_size=65535)

    def _padded(self, reply: bytes) -> bytes:
        """The reply with :data:`PAD_RECORDS` TXT records appended to its additional section
        (some 6 KB), as bytes: a crawl's burst of TCP legs must not wait on dnspython."""
        arcount = int.from_bytes(reply[10:12], "big") + PAD_RECORDS
        return reply[:10] + arcount.to_bytes(2, "big") + reply[12:] + _PADDING

    def _chained(self, reply: bytes) -> bytes:
        """``qname`` -> 30 CNAME steps -> the upstream's answer, moved to the chain's last name."""
        msg = dns.message.from_wire(reply, ignore_trailing=True)
        qname = msg.question[0].name
        hops = [dns.name.from_text(f"hop{i}.chain.invalid.") for i in range(1, self.plan.chain_length + 1)]
        chain = [_rrset(a, "CNAME", b.to_text()) for a, b in zip([qname, *hops[:-1]], hops, strict=True)]
        moved = []
        for rrset in msg.answer:
            if rrset.name == qname:
                moved.append(dns.rrset.from_rdata_list(hops[-1], rrset.ttl, list(rrset)))
            else:
                moved.append(rrset)
        msg.answer = [*chain, *moved]
        return msg.to_wire(max_size=65535)


def _udp_socket() -> socket.socket:
    """A UDP socket with large buffers: a crawl sends thousands of questions in one burst, and
    a default 208 KB buffer would drop some while a fault is being forged (a drop of our own)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, _BUFFER)
    sock.setblocking(False)
    return sock


def _rrset(name: dns.name.Name, rtype: str, value: str) -> dns.rrset.RRset:
    rdtype = dns.rdatatype.from_text(rtype)
    rdata = dns.rdata.from_text(dns.rdataclass.IN, rdtype, value, origin=dns.name.root, relativize=False)
    return dns.rrset.from_rdata(name, 60, rdata)


@contextlib.contextmanager
def running_proxy(upstream: tuple[str, int], plan: FaultPlan | None = None) -> Iterator[FaultProxy]:
    """Run a :class:`FaultProxy` in a background thread (its own event loop) for the block."""
    proxy = FaultProxy(upstream, plan)
    with serving([proxy.start], [proxy.stop], name="dns-fault-proxy", timeout=10):
        yield proxy


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--upstream", required=True, help="resolver to forward to, 127.0.0.1:PORT")
    ap.add_argument("--rate", type=float, default=0.1, help="share of questions given a fault")
    ap.add_argument("--kinds", default=",".join(RANDOM_KINDS), help="comma-separated fault kinds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--slow-delay", type=float, default=0.3)
    ap.add_argument("--late-delay", type=float, default=1.5)
    ap.add_argument("--port-file", type=Path, help="write the port here once listening")
    ap.add_argument("--report", type=Path, help="write the counts here (JSON) when stopped")
    ap.add_argument("--questions", action="store_true", help="list every question seen in the report")
    args = ap.parse_args(argv)
    upstream = parse_address(args.upstream)
    if upstream[0] not in (LOOPBACK, "::1"):
        ap.error("the upstream must be on loopback")
    plan = FaultPlan(rate=args.rate, kinds=tuple(FaultKind(k) for k in args.kinds.split(",") if k),
                     seed=args.seed, slow_delay=args.slow_delay, late_delay=args.late_delay)

    async def serve() -> dict[str, Any]:
        proxy = FaultProxy(upstream, plan)
        host, port = await proxy.start()
        if args.port_file:
            tmp = args.port_file.with_name(args.port_file.name + ".tmp")
            tmp.write_text(str(port))
            tmp.replace(args.port_file)
        print(f"fault proxy on {host}:{port} -> {args.upstream}, rate {args.rate}", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await proxy.stop()
        return proxy.report(questions=args.questions)

    report = asyncio.run(serve())
    if args.report:
        args.report.write_text(json.dumps(report) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
