"""An in-process DNS server for tests: UDP and TCP on one loopback port, faults per name.

Built with dnspython so that it shares no code with the engine under test. It answers from a
small world (``{"name": [("A", "192.0.2.1"), ("CNAME", "other.example")]}``), following CNAME
chains like a recursive resolver, and misbehaves for the names listed in ``modes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

_ROOT = dns.name.root
World = Mapping[str, Sequence[tuple[str, str]]]


class Mode(StrEnum):
    """How the server treats a name."""

    ANSWER = "answer"
    DROP = "drop"  # never answer, neither UDP nor TCP
    DROP_FIRST = "drop_first"  # drop the first UDP query for the name, answer the next ones
    SERVFAIL = "servfail"
    REFUSED = "refused"
    FORMERR = "formerr"
    NOTIMP = "notimp"
    YXDOMAIN = "yxdomain"
    REFUSED_BARE = "refused_bare"  # REFUSED without a question section
    TC = "tc"  # TC over UDP, the full answer over TCP
    TC_ALWAYS = "tc_always"  # TC over TCP too
    TC_TCP_CLOSE = "tc_tcp_close"  # TC over UDP, TCP connection closed without answer
    WRONG_ID = "wrong_id"  # a reply with another ID, then the right one
    WRONG_QUESTION = "wrong_question"  # a reply to another question, then the right one
    WRONG_QUESTION_ONLY = "wrong_question_only"  # only the reply to another question
    SPOOF_SOURCE = "spoof_source"  # the right reply from another port first, then the real one
    DUPLICATE = "duplicate"  # the right reply twice
    SLOW = "slow"  # answer after ``slow_delay`` seconds
    MALFORMED = "malformed"  # right header and question, answer count one too high


_RCODE_MODES = {
    Mode.SERVFAIL: dns.rcode.SERVFAIL,
    Mode.REFUSED: dns.rcode.REFUSED,
    Mode.FORMERR: dns.rcode.FORMERR,
    Mode.NOTIMP: dns.rcode.NOTIMP,
    Mode.YXDOMAIN: dns.rcode.YXDOMAIN,
}


def _key(name: dns.name.Name | str) -> str:
    text = name.to_text() if isinstance(name, dns.name.Name) else name
    return text.lower().rstrip(".") or "."


class DnsTestServer:
    """A loopback DNS server on port 0; ``address`` is read back after :meth:`start`.

    ``queries`` counts every query received as ``(name, type, transport)``.
    """

    def __init__(
        self,
        world: World | None = None,
        modes: Mapping[str, Mode] | None = None,
        slow_delay: float = 0.05,
    ) -> None:
        self.world = {_key(k): list(v) for k, v in (world or {}).items()}
        self.modes = {_key(k): v for k, v in (modes or {}).items()}
        self.slow_delay = slow_delay
        self.queries: Counter[tuple[str, str, str]] = Counter()
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self._udp: asyncio.DatagramTransport | None = None
        self._spoofer: socket.socket | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> DnsTestServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        for _ in range(20):  # TCP must get the port UDP got; retry in the rare clash
            udp, _protocol = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=("127.0.0.1", 0)
            )
            port = udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, "127.0.0.1", port)
            except OSError:
                udp.close()
                continue
            self._udp = udp
            break
        else:
            raise RuntimeError("no free port for UDP and TCP")
        self._spoofer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._spoofer.bind(("127.0.0.1", 0))
        self.address = ("127.0.0.1", port)
        return self.address

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._spoofer is not None:
            self._spoofer.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    # -- answers ----------------------------------------------------------------------------

    def resolve(self, qname: str, rdtype: str) -> tuple[int, list[dns.rrset.RRset]]:
        """Rcode and answer RRsets for a question, following CNAMEs (stopping at a loop)."""
        answer: list[dns.rrset.RRset] = []
        name, seen = qname, set()
        for _ in range(16):
            records = self.world.get(name)
            if records is None:
                return dns.rcode.NXDOMAIN, answer
            matching = [value for rtype, value in records if rtype == rdtype]
            if matching:
                answer.append(
                    dns.rrset.from_text_list(
                        name + ".", 300, "IN", rdtype, matching, origin=_ROOT, relativize=False
                    )
                )
                return dns.rcode.NOERROR, answer
            cnames = [value for rtype, value in records if rtype == "CNAME"]
            if not cnames:
                return dns.rcode.NOERROR, answer
            answer.append(
                dns.rrset.from_text_list(
                    name + ".", 300, "IN", "CNAME", cnames, origin=_ROOT, relativize=False
                )
            )
            seen.add(name)
            name = _key(cnames[0])
            if name in seen:
                break
        return dns.rcode.NOERROR, answer

    def reply(self, query: dns.message.Message, mode: Mode, tcp: bool) -> bytes | None:
        """The wire reply to ``query`` under ``mode``, or ``None`` to stay silent."""
        question = query.question[0]
        response = dns.message.make_response(query)
        if mode is Mode.DROP:
            return None
        if mode in _RCODE_MODES:
            response.set_rcode(_RCODE_MODES[mode])
        elif mode is Mode.REFUSED_BARE:
            response.set_rcode(dns.rcode.REFUSED)
            response.question = []
        elif (mode in (Mode.TC, Mode.TC_TCP_CLOSE) and not tcp) or mode is Mode.TC_ALWAYS:
            response.flags |= dns.flags.TC
        else:
            rcode, response.answer = self.resolve(
                _key(question.name), dns.rdatatype.to_text(question.rdtype)
            )
            response.set_rcode(dns.rcode.Rcode(rcode))
        if mode is Mode.MALFORMED:
            response.use_edns(False)
        wire = response.to_wire(max_size=65535)
        if mode is Mode.MALFORMED:
            ancount = int.from_bytes(wire[6:8], "big") + 1
            wire = wire[:6] + ancount.to_bytes(2, "big") + wire[8:]
        return wire

    def _handle_udp(self, data: bytes, addr: tuple[Any, ...]) -> None:
        query = dns.message.from_wire(data)
        name = _key(query.question[0].name)
        self.queries[(name, dns.rdatatype.to_text(query.question[0].rdtype), "udp")] += 1
        mode = self.modes.get(name, Mode.ANSWER)
        if mode is Mode.DROP_FIRST:
            if sum(n for (q, _t, tr), n in self.queries.items() if q == name and tr == "udp") == 1:
                return
            mode = Mode.ANSWER
        if mode is Mode.SLOW:
            task = asyncio.ensure_future(self._later(query, addr))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        wire = self.reply(query, mode, tcp=False)
        if wire is None or self._udp is None:
            return
        if mode is Mode.WRONG_ID:
            self._udp.sendto(bytes([wire[0] ^ 0x5A, wire[1]]) + wire[2:], addr)
        elif mode in (Mode.WRONG_QUESTION, Mode.WRONG_QUESTION_ONLY):
            other = dns.message.make_query("x" + name, query.question[0].rdtype)
            other.id = query.id
            self._udp.sendto(self.reply(other, Mode.ANSWER, tcp=False) or b"", addr)
            if mode is Mode.WRONG_QUESTION_ONLY:
                return
        elif mode is Mode.SPOOF_SOURCE and self._spoofer is not None:
            self._spoofer.sendto(wire, addr)
        elif mode is Mode.DUPLICATE:
            self._udp.sendto(wire, addr)
        self._udp.sendto(wire, addr)

    async def _later(self, query: dns.message.Message, addr: tuple[Any, ...]) -> None:
        await asyncio.sleep(self.slow_delay)
        wire = self.reply(query, Mode.ANSWER, tcp=False)
        if wire is not None and self._udp is not None and not self._udp.is_closing():
            self._udp.sendto(wire, addr)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            size = int.from_bytes(await reader.readexactly(2), "big")
            query = dns.message.from_wire(await reader.readexactly(size))
            name = _key(query.question[0].name)
            self.queries[(name, dns.rdatatype.to_text(query.question[0].rdtype), "tcp")] += 1
            mode = self.modes.get(name, Mode.ANSWER)
            wire = None if mode is Mode.TC_TCP_CLOSE else self.reply(query, mode, tcp=True)
            if wire is not None:
                writer.write(len(wire).to_bytes(2, "big") + wire)
                await writer.drain()
        writer.close()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsTestServer) -> None:
        self._server = server

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self._server._handle_udp(data, addr)
