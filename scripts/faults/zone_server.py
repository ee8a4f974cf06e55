"""A tiny DNS server on loopback answering from a dict, as a recursive resolver would.

UDP and TCP on one port (port 0, read back). ``{"name": {"A": ["1.0.0.1"]}}``: a name in the
dict gets its records (NODATA for the types it lacks), any other name NXDOMAIN. Built with
dnspython, sharing no code with the engine under test. Every question is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

Records = Mapping[str, Mapping[str, Sequence[str]]]


def _key(name: dns.name.Name) -> str:
    return name.to_text().lower().rstrip(".")


class ZoneServer:
    """``await start()`` returns ``(host, port)``; ``queries`` counts ``(name, type)``."""

    def __init__(self, records: Records) -> None:
        self.records = {k.lower().rstrip("."): {t: list(v) for t, v in types.items()} for k, types in records.items()}
        self.queries: Counter[tuple[str, str]] = Counter()
        self.address = ("127.0.0.1", 0)
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    def answer(self, wire: bytes) -> bytes | None:
        """The reply to one query's bytes (None: not a query worth answering)."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # garbage on the port: no reply, as a server would
            return None
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA | dns.flags.RA
        if len(query.question) != 1:
            reply.set_rcode(dns.rcode.FORMERR)
            return reply.to_wire()
        question = query.question[0]
        name, rdtype = _key(question.name), dns.rdatatype.to_text(question.rdtype)
        self.queries[(name, rdtype)] += 1
        types = self.records.get(name)
        if types is None:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        elif types.get(rdtype):
            reply.answer.append(dns.rrset.from_text_list(question.name, 300, "IN", rdtype, types[rdtype]))
        return reply.to_wire()

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        for _ in range(20):  # TCP must get the port UDP got; retry in the rare clash
            udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=("127.0.0.1", 0))
            port = udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, "127.0.0.1", port)
            except OSError:
                udp.close()
                continue
            self._udp = udp
            self.address = ("127.0.0.1", port)
            return self.address
        raise RuntimeError("no free port for UDP and TCP")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                (size,) = struct.unpack("!H", await reader.readexactly(2))
                reply = self.answer(await reader.readexactly(size))
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: ZoneServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self.server.answer(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)
