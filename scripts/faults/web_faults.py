"""A hostile web server on loopback: HTTP and HTTPS listeners whose behaviour is chosen by the
Host header, and whose certificate by the TLS SNI (:mod:`scripts.faults.web_world` puts it in a
world with a DNS zone and a lab folder).

Each host has one :class:`Behaviour` (huge, endless and gzip-bomb bodies, a byte drip, redirect
loops and redirects to blocked addresses, garbage, resets, tag soup, hostile headers...) and one
:class:`~scripts.faults.fault_pki.CertKind`. The server logs every TLS handshake (the SNI asked)
and every request (scheme, SNI, Host, target), and counts the body bytes it managed to send per
host, so a scenario can prove that a blocked host was never asked and that a huge body was not
read to its end.
"""

from __future__ import annotations

import asyncio
import functools
import random
import socket
import ssl
import struct
import zlib
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from scripts.faults.fault_pki import CertKind, FaultPki

LOOPBACK = "127.0.0.1"
#: where TO_IDN leads: ``bücher.fault-to-idn.com`` in IDNA
IDN_TARGET = "xn--bcher-kva.fault-to-idn.com"
INTRANET = "10.0.0.5"
METADATA = "169.254.169.254"
HUGE_BYTES = 50 * 1024 * 1024
BOMB_BYTES = 100 * 1024 * 1024
HUGE_HEAD_BYTES = 320 * 1024
DECIMAL_METADATA = str(int.from_bytes(bytes(int(x) for x in METADATA.split(".")), "big"))
_CHUNK = 64 * 1024
_HEAD_TIMEOUT = 10.0
_ENDLESS_LIMIT = 1 << 30  # an endless body ends on its own after 1 GB, should a client read on
_DRIP_LIMIT = 600  # bytes at most (5 minutes at 0.5 s) before a drip gives up on its own


class Behaviour(StrEnum):
    """What the web server does for a host."""

    OK = "ok"  # a small home page
    HUGE = "huge"  # a 50 MB body (Content-Length), streamed
    ENDLESS = "endless"  # a chunked body that does not end (before 1 GB)
    DRIP = "drip"  # the whole response one byte every ``drip_interval`` seconds
    LOOP = "loop"  # 302 to its partner host, which sends it back
    TO_METADATA = "to_metadata"  # 302 to http://169.254.169.254/
    TO_SELF = "to_self"  # 302 to http://127.0.0.1:<this server's http port>/
    TO_INTRANET = "to_intranet"  # 302 to intranet.<host>, which resolves to 10.0.0.5
    TO_MAPPED = "to_mapped"  # 302 to http://[::ffff:169.254.169.254]/ (the metadata address, IPv6-mapped)
    TO_DECIMAL = "to_decimal"  # 302 to http://2852039166/ (169.254.169.254 as one number, as inet_aton reads it)
    TO_IDN = "to_idn"  # 302 with raw UTF-8 in Location: https://bücher.<host>/straße (as browsers read it)
    MANY_HOSTS = "many_hosts"  # a page naming MANY_HOSTS distinct third-party hosts
    GZIP_BOMB = "gzip_bomb"  # Content-Encoding gzip: 100 KB on the wire, 100 MB inflated
    HUGE_HEAD = "huge_head"  # a 320 KB response head (header lines of 4 KB)
    GARBAGE = "garbage"  # random bytes instead of HTTP (robots.txt too)
    RESET = "reset"  # half a response head, then a TCP reset (robots.txt too)
    TAG_SOUP = "tag_soup"  # malformed HTML with resource links
    HOSTILE_HEADERS = "hostile_headers"  # markup, quotes, SQL and rich markup in header values


#: where each redirecting behaviour sends the client (``partner``, ``host``, ``port`` filled in)
REDIRECTS = {
    Behaviour.LOOP: "https://{partner}/",
    Behaviour.TO_METADATA: f"http://{METADATA}/latest/",
    Behaviour.TO_SELF: f"http://{LOOPBACK}:{{port}}/admin",
    Behaviour.TO_INTRANET: "http://intranet.{host}/",
    Behaviour.TO_MAPPED: f"http://[::ffff:{METADATA}]/latest/",
    Behaviour.TO_DECIMAL: f"http://{DECIMAL_METADATA}/latest/",
    Behaviour.TO_IDN: "https://bücher.{host}/straße",
}
MANY_HOSTS = 2000


@dataclass(frozen=True, slots=True)
class Host:
    """One host of the world.

    :ivar listed: a site of the top list (False: only reached by a redirect or a page).
    :ivar partner: the host a LOOP redirects to.
    """

    name: str
    behaviour: Behaviour = Behaviour.OK
    cert: CertKind = CertKind.VALID
    address: str = ""
    listed: bool = True
    partner: str | None = None


#: the page of TAG_SOUP: unclosed and misnested tags, unquoted attributes, a ``</script`` whose
#: "attributes" swallow the next tag (no browser loads that font), NULs and invalid UTF-8,
#: resources in comments and in ``javascript:``/``data:`` URLs (none of them counts)
TAG_SOUP = (
    b'<!DOCTYPE html><html><head><title>soup</title><meta charset="utf-8">\n'
    b"<script src=//cdn.fault-soup-cdn.net/lib.js></script\n"
    b"<link rel=stylesheet href='https://fonts.fault-soup-fonts.com/css?family=x'>\n"
    b"<body><div><p>unclosed <b><i>misnested</b></i>\n"
    b'<img src="https://img.fault-soup-img.org/a.png" <img srcset="https://img2.fault-soup-img.org/b.png 2x, '
    b'//static.fault-tag-soup.com/c.png 1x">\n'
    b'<iframe src="HTTPS://Frames.Fault-Soup-Frames.NET:8443/x"></iframe>\n'
    b'<script src="javascript:alert(1)"></script><img src="data:image/png;base64,AAAA">\n'
    b"\x00\xff\xfe garbage \xc3\x28 bytes <<<>>>\n"
    b"<table><tr><td><video><source src=https://media.fault-soup-media.com/v.mp4></table>\n"
    b'<script src="https://cdn.fault-soup-cdn.net/two.js"></script><img src="/local.png">'
    b"<!-- unterminated <img src=https://hidden.fault-soup-hidden.com/x.png>\n"
)
#: the hosts a browser loads from TAG_SOUP
SOUP_HOSTS = frozenset({"cdn.fault-soup-cdn.net", "img.fault-soup-img.org", "img2.fault-soup-img.org",
                        "static.fault-tag-soup.com", "frames.fault-soup-frames.net", "media.fault-soup-media.com"})
#: hosts in TAG_SOUP that must not be found (swallowed by ``</script``, in a comment)
SOUP_ABSENT = frozenset({"fonts.fault-soup-fonts.com", "hidden.fault-soup-hidden.com"})
#: header values of HOSTILE_HEADERS, by (lower-case) name
HOSTILE_HEADER_VALUES = {
    "x-evil": '<script>alert("hdr")</script>',
    "server": "x'); DROP TABLE snapshots; --",
    "x-img": '"><img src=x onerror=alert("hdr")>',
    "x-rich": "[bold red]markup[/bold red] [link=file:///etc/passwd]click[/link]",
    "x-formula": '=cmd|" /C calc"!A0',
}


@dataclass(frozen=True, slots=True)
class Request:
    """One request the server read: its scheme, the SNI of its connection, Host and target."""

    scheme: str
    sni: str | None
    host: str
    target: str


class HostileWeb:
    """The HTTP and HTTPS listeners (port 0 each); behaviour by Host header, certificate by SNI."""

    def __init__(self, hosts: list[Host], pki: FaultPki, *, drip_interval: float = 0.5, seed: int = 7) -> None:
        self.hosts = {h.name: h for h in hosts}
        self.pki = pki
        self.drip_interval = drip_interval
        self.seed = seed
        self.requests: list[Request] = []
        self.handshakes: list[str | None] = []
        """The SNI of every TLS handshake begun (None: no SNI)."""
        self.sent: Counter[str] = Counter()
        """Body bytes written per host (what the client read at most)."""
        self.served: Counter[tuple[str, str]] = Counter()
        """Responses per (host, behaviour) of the non-robots requests."""
        self.http_port = 0
        self.https_port = 0
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._sni: dict[int, str | None] = {}

    async def start(self) -> None:
        gzip_bomb()  # made now: a second of compression mid-crawl would stall every other host
        for h in self.hosts.values():
            self._contexts[h.name] = self.pki.server_context(h.name, h.cert)
        default = self.pki.server_context("default.invalid", CertKind.SELF_SIGNED)
        default.sni_callback = self._on_sni
        plain = await asyncio.start_server(lambda r, w: self._serve("http", r, w), LOOPBACK, 0)
        tls = await asyncio.start_server(lambda r, w: self._serve("https", r, w), LOOPBACK, 0, ssl=default)
        self._servers = [plain, tls]
        self.http_port = plain.sockets[0].getsockname()[1]
        self.https_port = tls.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()

    def _on_sni(self, ssl_object: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.handshakes.append(name)
        self._sni[id(ssl_object)] = name
        chosen = self._contexts.get(name or "")
        if chosen is not None:
            ssl_object.context = chosen

    def asked(self, host: str) -> list[Request]:
        """The requests whose Host or SNI names ``host`` (any port)."""
        return [r for r in self.requests if r.host.rsplit(":", 1)[0] == host or r.sni == host
                or r.host == host]

    async def _serve(self, scheme: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        ssl_object = writer.get_extra_info("ssl_object")
        sni = self._sni.pop(id(ssl_object), None) if ssl_object is not None else None
        try:
            async with asyncio.timeout(_HEAD_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 2 else ""
            host = next((ln.split(":", 1)[1].strip().lower() for ln in lines[1:] if ln.lower().startswith("host:")),
                        "")
            self.requests.append(Request(scheme, sni, host, target))
            spec = self.hosts.get(host)
            if spec is None:
                await self._send(writer, _response(421, b"unknown host\n"))
                return
            robots = target.split("?")[0] == "/robots.txt"
            if robots and spec.behaviour not in (Behaviour.GARBAGE, Behaviour.RESET):
                await self._send(writer, _response(404, b"no robots.txt\n"))
                return
            if not robots:
                self.served[(host, spec.behaviour.value)] += 1
            await self._behave(spec, scheme, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                TimeoutError, IndexError):
            pass
        except asyncio.CancelledError:
            pass  # stop(): ending normally keeps the stream callback quiet
        finally:
            writer.transport.abort()
            self._tasks.discard(task)

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()

    async def _behave(self, spec: Host, scheme: str, writer: asyncio.StreamWriter) -> None:
        b = spec.behaviour
        if b is Behaviour.OK:
            await self._send(writer, _response(200, _page(spec.name), [("Content-Type", "text/html; charset=utf-8")]))
        elif b is Behaviour.TAG_SOUP:
            await self._send(writer, _response(200, TAG_SOUP, [("Content-Type", "text/html")]))
        elif b is Behaviour.HOSTILE_HEADERS:
            headers = [("Content-Type", "text/html"), *((k.title(), v) for k, v in HOSTILE_HEADER_VALUES.items()),
                       ("Set-Cookie", 'q="<b>\'; DROP TABLE http_headers; --"; Path=/')]
            await self._send(writer, _response(200, _page(spec.name), headers))
        elif b in REDIRECTS:
            where = REDIRECTS[b].format(partner=spec.partner, host=spec.name, port=self.http_port)
            await self._send(writer, _response(302, b"moved\n", [("Location", where)]))
        elif b is Behaviour.MANY_HOSTS:
            await self._send(writer, _response(200, many_hosts_page(), [("Content-Type", "text/html")]))
        elif b is Behaviour.GZIP_BOMB:
            await self._send(writer, _response(200, gzip_bomb(), [("Content-Type", "text/html"),
                                                                  ("Content-Encoding", "gzip")]))
        elif b is Behaviour.HUGE_HEAD:
            pad = [(f"X-Pad-{i}", "a" * 4096) for i in range(HUGE_HEAD_BYTES // 4096)]
            await self._send(writer, _response(200, _page(spec.name), [("Content-Type", "text/html"), *pad]))
        elif b is Behaviour.HUGE:
            await self._stream(writer, spec.name, _head(200, [("Content-Type", "text/html"),
                                                              ("Content-Length", str(HUGE_BYTES))]), chunked=False)
        elif b is Behaviour.ENDLESS:
            await self._stream(writer, spec.name, _head(200, [("Content-Type", "text/html"),
                                                              ("Transfer-Encoding", "chunked")]), chunked=True)
        elif b is Behaviour.DRIP:
            data = _response(200, _page(spec.name), [("Content-Type", "text/html")])
            for i in range(min(len(data), _DRIP_LIMIT)):
                if writer.transport.is_closing():
                    return
                await self._send(writer, data[i : i + 1])
                await asyncio.sleep(self.drip_interval)
        elif b is Behaviour.GARBAGE:
            rng = random.Random(f"{self.seed}:{spec.name}:{scheme}")
            await self._send(writer, b"\x16\x03\x01garbage " + bytes(rng.randrange(256) for _ in range(4096)))
        elif b is Behaviour.RESET:
            await self._send(writer, b"HTTP/1.1 200 OK\r\nServer: half\r\nContent-Ty")
            await asyncio.sleep(0.05)
            sock = writer.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0: close() sends a reset, not a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    async def _stream(self, writer: asyncio.StreamWriter, host: str, head: bytes, *, chunked: bool) -> None:
        """Send ``head`` then a body until :data:`HUGE_BYTES` (or forever, chunked) or the client leaves."""
        await self._send(writer, head)
        block = (b"<p>" + b"x" * (_CHUNK - 8) + b"</p>\n")[:_CHUNK]
        frame = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block
        sent = 0
        while sent < (_ENDLESS_LIMIT if chunked else HUGE_BYTES):
            if writer.transport.is_closing():
                return
            await self._send(writer, frame)
            sent += len(block)
            self.sent[host] += len(block)
            # a TLS stream learns of a client gone only once the loop runs its connection_lost:
            # without this yield, drain() returns at once and the writes go on into a dead socket
            await asyncio.sleep(0)


@functools.cache
def gzip_bomb() -> bytes:
    """:data:`BOMB_BYTES` of zeros, gzip-compressed (about 100 KB), made once in 1 MB steps."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    block = bytes(1 << 20)
    out = [packer.compress(block) for _ in range(BOMB_BYTES >> 20)]
    return b"".join(out) + packer.flush()


@functools.cache
def many_hosts_page() -> bytes:
    """A page loading one image from each of :data:`MANY_HOSTS` hosts of 50 registrable domains."""
    tags = (f'<img src="https://h{i}.fault-many-{i % 50}.net/x.png">' for i in range(MANY_HOSTS))
    return ("<!doctype html><html><body>" + "".join(tags) + "</body></html>").encode()


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    reason = {200: "OK", 302: "Found", 404: "Not Found", 421: "Misdirected Request"}.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers), "Connection: close", "", ""]
    return "\r\n".join(lines).encode()  # UTF-8: a Location may carry raw non-ASCII, as servers send it


def _response(status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> bytes:
    return _head(status, [*(headers or []), ("Content-Length", str(len(body)))]) + body


def _page(host: str) -> bytes:
    return f"<!doctype html><html><head><title>{host}</title></head><body><p>{host}</p></body></html>\n".encode()
