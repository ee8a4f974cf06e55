"""The lab's web endpoint: one asyncio process answering HTTP and HTTPS for every host of the
world's ``web.tsv`` (:mod:`scripts.lab.web`), on two loopback ports.

HTTPS picks the certificate by SNI (``sni_callback``): a leaf for the host, issued on first use
by the host's lab CA (:mod:`scripts.lab.certs`), its SSL context kept in a bounded LRU cache. A
host that is http-only, or unknown, or no SNI at all: the handshake is refused with an alert.
Requests are routed by their ``Host`` header: robots.txt, ``/`` (a redirect or the home page),
any other path a small resource body; an unknown host gets 421. Every response closes the
connection (the crawler sends ``Connection: close``). Each request is logged as one line
``scheme<TAB>host<TAB>target`` to the request log (tests prove a blocked host was never asked).

``web.tsv`` is not loaded whole: an index of (hash of host, offset) pairs, two arrays, points into
the memory-mapped file, so a million-site world costs tens of megabytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mmap
import os
import socket
import time
from array import array
from bisect import bisect_left
from collections import OrderedDict
from datetime import UTC, date, datetime
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path

from OpenSSL import SSL, crypto

from crawler.registry import Registry
from scripts.lab import certs
from scripts.lab.web import ROBOTS, HostRule, Page, asset_body, render_page, response_headers

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MAX_LEAVES = 65536
_MAX_HEAD = 16384
_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect",
            308: "Permanent Redirect", 400: "Bad Request", 405: "Method Not Allowed",
            421: "Misdirected Request", 431: "Request Header Fields Too Large"}


class WebIndex:
    """Host -> :class:`HostRule` over a memory-mapped ``web.tsv``."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if path.stat().st_size else None
        pairs: list[tuple[int, int]] = []
        offset = 0
        with path.open("rb") as fh:
            for raw in fh:
                if not raw.startswith(b"#"):
                    pairs.append((hash(raw[: raw.index(b"\t")]), offset))
                offset += len(raw)
        pairs.sort()
        self._hashes = array("q", (h for h, _ in pairs))
        self._offsets = array("q", (o for _, o in pairs))
        self.get = lru_cache(maxsize=65536)(self._get)

    def __len__(self) -> int:
        return len(self._hashes)

    def _line(self, offset: int) -> bytes:
        assert self._map is not None
        end = self._map.find(b"\n", offset)
        return self._map[offset: end if end >= 0 else len(self._map)]

    def _find(self, host: str) -> HostRule | None:
        key = host.encode()
        h = hash(key)
        i = bisect_left(self._hashes, h)
        while i < len(self._hashes) and self._hashes[i] == h:
            line = self._line(self._offsets[i])
            if line.startswith(key + b"\t"):
                return HostRule.parse(line.decode())
            i += 1
        return None

    def _get(self, host: str) -> HostRule | None:
        rule = self._find(host)
        if rule is None and host.startswith("static."):  # a site's own asset host
            parent = self._find(host[len("static."):])
            if parent is not None:
                rule = HostRule(host, parent.tls, parent.ca, parent.http, "-", parent.headers, "allow", "asset")
        return rule

    def close(self) -> None:
        """Release the file."""
        if self._map is not None:
            self._map.close()
        self._file.close()


class CertStore:
    """Leaf certificates per site, issued on first use (bounded LRU), and one pyOpenSSL context
    per lab CA (the leaf key, the issuing CA as chain): a connection switches to its CA's context
    and takes its leaf in the SNI callback, so a new host costs one signature, not a context."""

    def __init__(self, state_dir: Path, world_date: date, max_leaves: int = MAX_LEAVES) -> None:
        self.issuers = certs.load_issuers(state_dir)
        self.world_date = world_date
        self.key, _ = certs.new_leaf_key()
        self.contexts = {k: self._ca_context(issuer) for k, issuer in self.issuers.items()}
        #: no certificate: a handshake switched to it fails (http-only and unknown hosts)
        self.refuse = SSL.Context(SSL.TLS_SERVER_METHOD)
        self._leaves: OrderedDict[str, crypto.X509] = OrderedDict()
        self.max = max_leaves
        self.issued = 0

    def _ca_context(self, issuer: certs.Issuer) -> SSL.Context:
        ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
        ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
        ctx.use_privatekey(self.key)
        if issuer.chain_pem:
            ctx.add_extra_chain_cert(issuer.cert)
        return ctx

    def leaf(self, host: str, rule: HostRule) -> crypto.X509:
        """*host*'s leaf (a site's apex and www share one, whose SANs are both)."""
        if rule.tls == "wrong_name":
            names = [certs.WRONG_NAME]
        elif rule.page == "asset":
            names = [host]
        else:
            apex = host[4:] if host.startswith("www.") else host
            names = [apex, f"www.{apex}"]
        key = f"{rule.ca} {rule.tls} {names[0]} {host if rule.tls == 'wrong_name' else ''}"
        leaf = self._leaves.get(key)
        if leaf is not None:
            self._leaves.move_to_end(key)
            return leaf
        window = certs.leaf_window(rule.tls, self.world_date, datetime.now(UTC))
        # converted once: pyOpenSSL would convert a cryptography certificate on every use
        cert = certs.issue_leaf_cert(self.issuers[rule.ca], host, names, self.key, window)
        leaf = crypto.X509.from_cryptography(cert)
        self.issued += 1
        self._leaves[key] = leaf
        if len(self._leaves) > self.max:
            self._leaves.popitem(last=False)
        return leaf


class WebServer:
    """The endpoint's request logic, independent of the sockets."""

    def __init__(self, index: WebIndex, store: CertStore, reg: Registry, log_path: Path) -> None:
        self.index = index
        self.store = store
        self.reg = reg
        self.log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.seq = 0
        self._date = ("", 0)
        self._pages: OrderedDict[str, bytes] = OrderedDict()

    def sni(self, conn: SSL.Connection) -> None:
        """The servername callback: the host's CA context and leaf, or a context that fails
        the handshake (no SNI, an unknown or http-only host)."""
        try:
            raw = conn.get_servername()
            rule = self.index.get(raw.decode("ascii", "replace").lower().rstrip(".")) if raw else None
            if rule is None or rule.tls == "none":
                conn.set_context(self.store.refuse)
                return
            conn.set_context(self.store.contexts[rule.ca])
            conn.use_certificate(self.store.leaf(rule.host, rule))
        except Exception:  # a failing callback must not take the server down
            logger.exception("sni")
            conn.set_context(self.store.refuse)

    def _now(self) -> str:
        now = int(time.time())
        if self._date[1] != now:
            self._date = (formatdate(now, usegmt=True), now)
        return self._date[0]

    def _page(self, host: str, page: str) -> bytes:
        body = self._pages.get(host)
        if body is None:
            body = render_page(host, Page.parse(page))
            self._pages[host] = body
            if len(self._pages) > 4096:
                self._pages.popitem(last=False)
        return body

    def respond(self, scheme: str, method: str, host: str, target: str) -> bytes:
        """The full response (head and body) to one request."""
        os.write(self.log_fd, f"{scheme}\t{host}\t{target}\n".encode(errors="replace"))
        self.seq += 1
        rule = self.index.get(host) if host else None
        extra: list[tuple[str, str]] = []
        if rule is None:
            code, body, ctype = 421, b"misdirected request\n", "text/plain"
        else:
            extra = response_headers(rule.headers, self.seq, self.reg)
            path = target.split("?", 1)[0]
            redirect = rule.location(target)
            if path == "/robots.txt":
                code, body, ctype = 200, ROBOTS[rule.robots], "text/plain"
            elif scheme == "http" and rule.http == "upgrade":
                code, body, ctype = 301, b"", "text/html"
                extra = [("Location", f"https://{host}{target}"), *extra]
            elif redirect is not None:
                code, body, ctype = redirect[0], b"", "text/html"
                extra = [("Location", redirect[1]), *extra]
            elif path == "/" and rule.has_page:
                code, body, ctype = 200, self._page(host, rule.page), "text/html; charset=utf-8"
            else:
                body, ctype = asset_body(path)
                code = 200
        if method not in ("GET", "HEAD"):
            code, body, ctype, extra = 405, b"", "text/plain", [("Allow", "GET, HEAD")]
        head = [f"HTTP/1.1 {code} {_REASONS.get(code, 'OK')}", f"Date: {self._now()}", f"Content-Type: {ctype}",
                f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in extra), "Connection: close", "", ""]
        return "\r\n".join(head).encode("latin-1", errors="replace") + (body if method != "HEAD" else b"")

    def close(self) -> None:
        """Close the request log."""
        with contextlib.suppress(OSError):
            os.close(self.log_fd)


def parse_head(head: bytes) -> tuple[str, str, str] | None:
    """``(method, host, target)`` of a request head (without the blank line), None if malformed."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    host = ""
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "host":
            host = value.strip().lower().rstrip(".")
            if host.startswith("["):
                host = host[1:].split("]", 1)[0]
            elif host.count(":") == 1:
                host = host.split(":", 1)[0]
            break
    target = parts[1]
    if target.startswith(("http://", "https://")):  # absolute form
        target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    return parts[0], host, target


_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def _answer(server: WebServer, scheme: str, buf: bytes) -> bytes | None:
    """The response once *buf* holds a whole request head, else None (read on)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return _TOO_LARGE if len(buf) > _MAX_HEAD else None
    request = parse_head(buf[:end])
    return _BAD_REQUEST if request is None else server.respond(scheme, *request)


class _Plain(asyncio.Protocol):
    """One plain-HTTP request per connection: read the head, answer, close."""

    __slots__ = ("buf", "server", "timer", "transport")

    def __init__(self, server: WebServer) -> None:
        self.server = server
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(30, transport.close)  # a client that never asks

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        payload = _answer(self.server, "http", self.buf)
        if payload is not None and self.transport is not None:
            self.transport.write(payload)
            self.transport.close()
            self.transport = None


class _Tls:
    """One HTTPS request per connection on a non-blocking pyOpenSSL connection, driven by the
    loop's reader/writer callbacks: handshake (SNI picks CA and leaf), read the head, answer,
    close_notify, close. OpenSSL reads and writes the socket itself: no copies through BIOs."""

    __slots__ = ("buf", "conn", "fd", "loop", "out", "server", "sock", "state", "timer", "watch")

    def __init__(self, loop: asyncio.AbstractEventLoop, server: WebServer, ctx: SSL.Context,
                 sock: socket.socket) -> None:
        self.loop, self.server, self.sock = loop, server, sock
        self.conn = SSL.Connection(ctx, sock)
        self.conn.set_accept_state()
        self.fd = sock.fileno()
        self.buf = b""
        self.out = b""
        self.state = "handshake"
        self.watch = ""
        self.timer = loop.call_later(30, self.close)  # a client that never finishes
        self.step()

    def _wait(self, kind: str) -> None:
        if self.watch == kind:
            return
        self._unwatch()
        if kind == "r":
            self.loop.add_reader(self.fd, self.step)
        else:
            self.loop.add_writer(self.fd, self.step)
        self.watch = kind

    def _unwatch(self) -> None:
        if self.watch == "r":
            self.loop.remove_reader(self.fd)
        elif self.watch == "w":
            self.loop.remove_writer(self.fd)
        self.watch = ""

    def step(self) -> None:
        try:
            if self.state == "handshake":
                self.conn.do_handshake()
                self.state = "read"
            while self.state == "read":
                self.buf += self.conn.recv(65536)
                payload = _answer(self.server, "https", self.buf)
                if payload is not None:
                    self.out, self.state = payload, "write"
            while self.state == "write" and self.out:
                self.out = self.out[self.conn.send(self.out):]
            self.conn.shutdown()  # our close_notify; theirs is not waited for
            self.close()
        except SSL.WantReadError:
            self._wait("r")
        except SSL.WantWriteError:
            self._wait("w")
        except (SSL.Error, OSError, ValueError):  # refused, reset, closed: nothing more to say
            self.close()

    def close(self) -> None:
        if self.state == "closed":
            return
        self._unwatch()
        self.timer.cancel()
        self.state = "closed"
        with contextlib.suppress(OSError):
            self.sock.close()


class TlsListener:
    """Accepts HTTPS connections on a listening socket and hands each to :class:`_Tls`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, server: WebServer, port: int) -> None:
        self.loop, self.server = loop, server
        self.ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
        self.ctx.set_tlsext_servername_callback(server.sni)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, port))
        self.sock.listen(1024)
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])
        loop.add_reader(self.sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(64):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                logger.exception("accept")
                return
            conn.setblocking(False)
            _Tls(self.loop, self.server, self.ctx, conn)

    def close(self) -> None:
        """Stop accepting."""
        self.loop.remove_reader(self.sock.fileno())
        self.sock.close()


async def serve(server: WebServer, http_port: int = 0, https_port: int = 0) -> tuple[asyncio.Server, TlsListener]:
    """Listen on loopback: plain HTTP and HTTPS (SNI-routed); ports 0 pick free ones."""
    loop = asyncio.get_running_loop()
    plain = await loop.create_server(lambda: _Plain(server), LOOPBACK, http_port, backlog=1024)
    return plain, TlsListener(loop, server, https_port)


def port_of(server: asyncio.Server | TlsListener) -> int:
    """The port a started server listens on."""
    if isinstance(server, TlsListener):
        return server.port
    return int(server.sockets[0].getsockname()[1])
