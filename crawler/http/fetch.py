"""One HTTP/1.1 exchange with a pinned address: plain asyncio and h11, no Scrapy import.

:func:`fetch` connects to the address DNS gave (or, in lab mode, to a loopback endpoint standing
in for it), does TLS with the URL's host as SNI, sends one GET and reads one response. It follows
no redirect: a 3xx is a :class:`Hop` like any other, and the caller decides what comes next.

Every network outcome is a :class:`Hop` with a :class:`Status`, never an exception.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote, urlsplit

import h11

from crawler.http.certs import CertInfo, cert_info
from crawler.http.safety import blocked_reason
from crawler.http.tls import TlsPolicy, default_policy

logger = logging.getLogger(__name__)

_READ_SIZE = 65536
_MAX_HEAD = 256 * 1024
"""Largest response head (status line and headers) accepted; some sites send huge cookies/CSPs."""
_OURS = frozenset({"host", "connection", "accept-encoding", "content-length", "transfer-encoding"})
"""Request headers fetch sets itself; the same names in ``request_headers`` are dropped."""
_TARGET_SAFE = "/?:@!$&'()*+,;=%~[]"


class Status(StrEnum):
    """The outcome of one fetch; stored on each hop, so the values are stable strings."""

    OK = "OK"
    """A complete response (or one cut at ``max_body``: see :attr:`Hop.truncated`)."""
    BLOCKED = "BLOCKED"
    """The address is not global unicast: no connection was made."""
    TIMEOUT = "TIMEOUT"
    """Connect plus TLS took over ``connect_timeout``, or the exchange over ``timeout``."""
    CONNECT_ERROR = "CONNECT_ERROR"
    """Refused, reset, unreachable: the OS said no, before or during the exchange."""
    TLS_ERROR = "TLS_ERROR"
    """The TLS handshake failed for a reason other than the certificate."""
    TLS_INVALID = "TLS_INVALID"
    """The certificate failed verification; it is on the hop, and no request was sent."""
    HTTP_ERROR = "HTTP_ERROR"
    """The bytes that came back are not an HTTP/1.x response, or it ended early."""


OK = Status.OK
BLOCKED = Status.BLOCKED
TIMEOUT = Status.TIMEOUT
CONNECT_ERROR = Status.CONNECT_ERROR
TLS_ERROR = Status.TLS_ERROR
TLS_INVALID = Status.TLS_INVALID
HTTP_ERROR = Status.HTTP_ERROR


@dataclass(slots=True)
class Hop:
    """One request and its response (or what stopped it)."""

    url: str
    host: str
    """The URL's host: lower case, IDNA (punycode), no trailing dot."""
    address: str | None
    """The IP that DNS gave for the host: recorded and attributed."""
    connected: str | None = None
    """``ip:port`` (``[ip]:port`` for IPv6) of the TCP connection made; in lab mode the lab's."""
    status: str = Status.OK
    """A :class:`Status` value (callers may add their own, e.g. for a host without address)."""
    http_status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    """Names lower-cased, in received order, repeats kept; values decoded as latin-1."""
    body: bytes = b""
    """At most ``max_body`` bytes, as received (no content decoding)."""
    body_bytes: int = 0
    """Body bytes received; more than ``len(body)`` only when truncated."""
    truncated: bool = False
    """The body went past ``max_body``: reading stopped and the connection was closed."""
    cert: CertInfo | None = None
    """The leaf certificate (https), also on TLS_INVALID."""
    tls_version: str | None = None
    elapsed_ms: float = 0.0
    error: str | None = None
    """One line, for statuses other than OK."""

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)


@dataclass(frozen=True, slots=True)
class _Target:
    https: bool
    host: str
    port: int
    request_target: str
    host_header: str


async def fetch(
    url: str,
    *,
    address: str,
    connect_to: tuple[str, int] | None = None,
    tls: TlsPolicy | None = None,
    timeout: float = 10.0,
    connect_timeout: float = 5.0,
    max_body: int = 2_000_000,
    request_headers: Mapping[str, str] | None = None,
    allow: Callable[[str], bool] | None = None,
) -> Hop:
    """GET ``url`` from ``address``, once, and return what happened.

    :param url: an http or https URL; its host is the Host header and the SNI.
    :param address: the IP literal DNS gave for the URL's host.
    :param connect_to: lab mode only: the loopback ``(ip, port)`` to connect to instead of
        ``address``, which is still recorded and checked.
    :param tls: trust for https; None for the system trust store.
    :param timeout: deadline in seconds for the whole fetch, connect included.
    :param connect_timeout: deadline in seconds for TCP connect plus TLS handshake.
    :param max_body: body bytes kept; past that the connection is closed (truncated, still OK).
    :param request_headers: sent after Host (User-Agent, Accept, ...); Host, Connection,
        Accept-Encoding, Content-Length and Transfer-Encoding are fetch's own and dropped here.
    :param allow: called with a blocked address; True lets the connection go ahead (tests, labs).
        An address that is not an IP literal is blocked regardless.
    :returns: the hop; its status says how it ended.
    :raises ValueError: for a URL that is not http(s) or has no valid host, header values that
        cannot be sent, or a ``connect_to`` that is not a loopback IP literal.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    target = _parse_url(url)
    if connect_to is not None:
        _check_lab_endpoint(connect_to)
    conn, request = _request(target, request_headers)
    hop = Hop(url=url, host=target.host, address=address)
    try:
        reason = blocked_reason(address)
        if reason is not None and (reason == "invalid" or allow is None or not allow(address)):
            return _fail(hop, BLOCKED, f"blocked: {reason} address {address}")
        peer = connect_to if connect_to is not None else (address.strip(), target.port)
        policy = (tls or default_policy()) if target.https else None
        await _run(hop, target, peer, policy, conn, request, started + timeout, connect_timeout, max_body)
        return hop
    finally:
        hop.elapsed_ms = round((loop.time() - started) * 1000, 3)


async def _run(
    hop: Hop,
    target: _Target,
    peer: tuple[str, int],
    policy: TlsPolicy | None,
    conn: h11.Connection,
    request: bytes,
    deadline: float,
    connect_timeout: float,
    max_body: int,
) -> None:
    """Connect, shake hands, exchange; fill ``hop``. Sockets are closed on every path."""
    loop = asyncio.get_running_loop()
    connect_deadline = min(loop.time() + connect_timeout, deadline)
    where = _hostport(peer)
    writer: asyncio.StreamWriter | None = None
    try:
        try:
            async with asyncio.timeout_at(connect_deadline):
                reader, writer = await asyncio.open_connection(peer[0], peer[1])
        except TimeoutError:
            _fail(hop, TIMEOUT, f"timeout: connect to {where}")
            return
        except OSError as exc:
            _fail(hop, CONNECT_ERROR, f"connect to {where}: {_describe(exc)}")
            return
        hop.connected = where
        ssl_object: ssl.SSLObject | None = None
        if policy is not None:
            try:
                async with asyncio.timeout_at(connect_deadline):
                    await writer.start_tls(policy.verified, server_hostname=target.host)
            except ssl.SSLCertVerificationError as exc:
                message = exc.verify_message or exc.reason or str(exc)
                _fail(hop, TLS_INVALID, f"certificate verify failed: {message}")
                capture_deadline = min(loop.time() + connect_timeout, deadline)
                hop.cert = await _capture_cert(peer, target.host, policy.unverified, capture_deadline, str(message))
                return
            except TimeoutError:
                _fail(hop, TIMEOUT, f"timeout: TLS handshake with {where}")
                return
            except (OSError, EOFError) as exc:  # ssl.SSLError is an OSError
                _fail(hop, TLS_ERROR, f"TLS handshake: {_describe(exc)}")
                return
            ssl_object = writer.get_extra_info("ssl_object")
            if ssl_object is not None:
                hop.tls_version = ssl_object.version()
                hop.cert = _read_cert(ssl_object.getpeercert(binary_form=True), verified=True)
        try:
            async with asyncio.timeout_at(deadline):
                await _exchange(reader, writer, conn, request, hop, max_body)
            if policy is not None and ssl_object is not None:
                policy.remember(target.host, ssl_object)  # the next connection to the host resumes it
        except TimeoutError:
            _fail(hop, TIMEOUT, "timeout: no complete response before the deadline")
        except h11.RemoteProtocolError as exc:
            _fail(hop, HTTP_ERROR, f"bad response: {_describe(exc)}")
        except ssl.SSLError as exc:
            _fail(hop, TLS_ERROR, f"TLS: {_describe(exc)}")
        except OSError as exc:
            _fail(hop, CONNECT_ERROR, f"connection to {where}: {_describe(exc)}")
    finally:
        if writer is not None:
            await _close(writer)


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    conn: h11.Connection,
    request: bytes,
    hop: Hop,
    max_body: int,
) -> None:
    """Send the request, read one response into ``hop`` (partial on any exception)."""
    writer.write(request)
    await writer.drain()
    body = bytearray()
    received = 0
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(_READ_SIZE)
                if not data and not received:
                    raise h11.RemoteProtocolError("connection closed before any response", 400)
                received += len(data)
                conn.receive_data(data)
            elif isinstance(event, h11.InformationalResponse):
                continue  # 100 Continue, 103 Early Hints: the final response follows
            elif isinstance(event, h11.Response):
                hop.http_status = event.status_code
                hop.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
            elif isinstance(event, h11.Data):
                hop.body_bytes += len(event.data)
                room = max_body - len(body)
                if len(event.data) > room:
                    body += event.data[:room]
                    hop.truncated = True
                    return
                body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return
    finally:
        hop.body = bytes(body)


async def _capture_cert(
    peer: tuple[str, int], host: str, context: ssl.SSLContext, deadline: float, verify_error: str
) -> CertInfo | None:
    """Connect again without verification only to read the leaf certificate; send nothing."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout_at(deadline):
            _, writer = await asyncio.open_connection(peer[0], peer[1], ssl=context, server_hostname=host)
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    except (OSError, EOFError) as exc:  # TimeoutError and ssl.SSLError included
        logger.debug("no certificate captured from %s: %s", _hostport(peer), exc)
        return None
    finally:
        if writer is not None:
            await _close(writer)
    return _read_cert(der, verified=False, verify_error=verify_error)


def _read_cert(der: bytes | None, *, verified: bool, verify_error: str | None = None) -> CertInfo | None:
    if not der:
        return None
    return _parsed_cert(der, verified, verify_error)


@functools.lru_cache(maxsize=1024)
def _parsed_cert(der: bytes, verified: bool, verify_error: str | None) -> CertInfo | None:
    """:func:`cert_info`, once per certificate: a site's robots.txt and home page (and its apex
    and www) present the same one a moment apart."""
    try:
        return cert_info(der, verified=verified, verify_error=verify_error)
    except ValueError:
        logger.debug("unparsable certificate", exc_info=True)
        return None


async def _close(writer: asyncio.StreamWriter) -> None:
    """Drop the connection now (no TLS close_notify, no lingering) and let the loop close the socket."""
    writer.transport.abort()
    await asyncio.sleep(0)


def _parse_url(url: str) -> _Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    raw_host = parts.hostname
    if not raw_host:
        raise ValueError(f"no host in URL: {url!r}")
    host = _ascii_host(raw_host)
    default = 443 if scheme == "https" else 80
    port = parts.port or default  # .port raises ValueError when out of range
    path = parts.path or "/"
    request_target = quote(f"{path}?{parts.query}" if parts.query else path, safe=_TARGET_SAFE)
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default else f"{shown}:{port}"
    return _Target(scheme == "https", host, port, request_target, host_header)


def _ascii_host(host: str) -> str:
    host = host.rstrip(".").lower()
    if not host:
        raise ValueError("empty host")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"host cannot be encoded as IDNA: {host!r}") from exc


def _request(target: _Target, extra: Mapping[str, str] | None) -> tuple[h11.Connection, bytes]:
    """The client connection state and the request bytes, built before any socket is opened."""
    headers: list[tuple[bytes, bytes]] = [(b"Host", target.host_header.encode("ascii"))]
    for name, value in (extra or {}).items():
        if name.lower() not in _OURS:
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
    headers += [(b"Accept-Encoding", b"identity"), (b"Connection", b"close")]
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
    try:
        data = conn.send(h11.Request(method="GET", target=target.request_target, headers=headers))
        data = (data or b"") + (conn.send(h11.EndOfMessage()) or b"")
    except h11.LocalProtocolError as exc:
        raise ValueError(f"cannot send request: {exc}") from exc
    return conn, data


def _check_lab_endpoint(connect_to: tuple[str, int]) -> None:
    host, port = connect_to
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"connect_to must be an IP literal, got {host!r}") from None
    if not ip.is_loopback:
        raise ValueError(f"connect_to must be a loopback address (lab mode), got {host}")
    if not 0 < port < 65536:
        raise ValueError(f"bad connect_to port: {port}")


def _fail(hop: Hop, status: Status, error: str) -> Hop:
    hop.status = status
    hop.error = " ".join(error.split())[:500]
    return hop


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not text.startswith(type(exc).__name__) else text


def _hostport(peer: tuple[str, int]) -> str:
    host, port = peer
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
