"""fetch over plain HTTP against scripted loopback servers: bodies, statuses, limits, blocking."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from crawler.http import BLOCKED, CONNECT_ERROR, HTTP_ERROR, OK, TIMEOUT, Hop, fetch
from tests.http.server import ConnectSpy, Server, reply

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")

T = TypeVar("T")
PUBLIC = "8.8.8.8"  # recorded as the site's address; the connection goes to the lab endpoint only


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one test's event loop, then collect garbage so an unclosed socket fails this test."""
    result = asyncio.run(coro)
    gc.collect()
    return result


async def fetch_from(server: Server, url: str | None = None, **kwargs: Any) -> Hop:
    kwargs.setdefault("address", PUBLIC)
    kwargs.setdefault("connect_to", server.endpoint)
    return await fetch(url or f"http://site.test:{server.port}/", **kwargs)


async def one(raw: bytes, url: str | None = None, **kwargs: Any) -> tuple[Hop, Server]:
    async with Server(reply(raw)) as server:
        hop = await fetch_from(server, url, **kwargs)
    return hop, server


def test_ok_with_headers_and_body() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nSet-Cookie: a=1\r\n"
        b"X-Served-By: Cache-FRA\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nhello"
    )

    async def main() -> tuple[Hop, Server, ConnectSpy]:
        spy = ConnectSpy()
        async with Server(reply(raw)) as server:
            hop = await fetch_from(server, f"http://Site.Test:{server.port}/a%20b/c d?q=1&r=é#frag",
                                   request_headers={"User-Agent": "chokepoints-test/1", "Accept-Encoding": "gzip",
                                                    "Connection": "keep-alive", "Host": "evil.test"})
        return hop, server, spy

    hop, server, spy = run(main())
    assert hop.status == OK and hop.error is None
    assert hop.http_status == 200
    assert hop.headers == [
        ("content-type", "text/html; charset=utf-8"),
        ("set-cookie", "a=1"),
        ("x-served-by", "Cache-FRA"),
        ("set-cookie", "b=2"),
        ("content-length", "5"),
    ]
    assert hop.header("Content-Type") == "text/html; charset=utf-8"
    assert hop.body == b"hello" and hop.body_bytes == 5 and not hop.truncated
    assert hop.host == "site.test" and hop.address == PUBLIC
    assert hop.connected == f"127.0.0.1:{server.port}"
    assert hop.cert is None and hop.tls_version is None
    assert hop.elapsed_ms > 0
    # only ever connected to the lab endpoint, never to the recorded address
    assert spy.calls == [("127.0.0.1", server.port)]
    lines = server.received[0].decode().split("\r\n")
    assert lines[0] == "GET /a%20b/c%20d?q=1&r=%C3%A9 HTTP/1.1"
    headers = [tuple(line.split(": ", 1)) for line in lines[1:] if line]
    assert headers == [
        ("Host", f"site.test:{server.port}"),
        ("User-Agent", "chokepoints-test/1"),
        ("Accept-Encoding", "identity"),
        ("Connection", "close"),
    ]


def test_host_header_without_default_port() -> None:
    hop, server = run(one(b"HTTP/1.1 204 No Content\r\n\r\n", "http://site.test/"))
    assert hop.status == OK and hop.http_status == 204 and hop.body == b""
    assert b"\r\nHost: site.test\r\n" in server.received[0]


def test_redirect_is_a_hop_not_followed() -> None:
    raw = b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://www.site.test/\r\nContent-Length: 0\r\n\r\n"
    hop, server = run(one(raw))
    assert hop.status == OK and hop.http_status == 301
    assert hop.header("location") == "https://www.site.test/"
    assert server.connections == 1


def test_chunked_body() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    hop, _ = run(one(raw))
    assert hop.status == OK and hop.body == b"hello, world" and hop.body_bytes == 12


def test_close_delimited_body() -> None:
    hop, _ = run(one(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"x" * 100_000))
    assert hop.status == OK and hop.body == b"x" * 100_000 and not hop.truncated


def test_interim_response_skipped() -> None:
    raw = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    hop, _ = run(one(raw))
    assert hop.status == OK and hop.http_status == 200 and hop.body == b"ok"


@pytest.mark.parametrize("chunked", [False, True])
def test_body_over_max_body_is_truncated(chunked: bool) -> None:
    body = b"y" * 300_000
    if chunked:
        raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
            b"%x\r\n%s\r\n" % (1000, body[i : i + 1000]) for i in range(0, len(body), 1000)
        ) + b"0\r\n\r\n"
    else:
        raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    hop, _ = run(one(raw, max_body=10_000))
    assert hop.status == OK and hop.truncated
    assert hop.body == b"y" * 10_000
    assert 10_000 < hop.body_bytes < len(body)


def test_body_exactly_max_body_is_not_truncated() -> None:
    hop, _ = run(one(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", max_body=4))
    assert hop.status == OK and hop.body == b"abcd" and not hop.truncated


async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
    await server.read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    while True:
        writer.write(b".")
        await writer.drain()
        await asyncio.sleep(0.05)


async def drip_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
    await server.read_request(reader)
    for byte in b"HTTP/1.1 200 OK\r\n" + b"X: " + b"a" * 10_000:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("handler", [drip, drip_head])
def test_slow_drip_times_out_at_the_deadline(handler: Any) -> None:
    async def main() -> Hop:
        async with Server(handler) as server:
            return await fetch_from(server, timeout=0.6, connect_timeout=0.3)

    hop = run(main())
    assert hop.status == TIMEOUT and hop.error is not None and "timeout" in hop.error
    assert 550 <= hop.elapsed_ms < 1200
    if handler is drip:
        assert hop.http_status == 200 and 0 < len(hop.body) < 1000  # what came is kept


def test_connection_refused() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    hop = run(fetch(f"http://site.test:{port}/", address=PUBLIC, connect_to=("127.0.0.1", port)))
    assert hop.status == CONNECT_ERROR and hop.connected is None
    assert hop.error is not None and "\n" not in hop.error and f"127.0.0.1:{port}" in hop.error


@pytest.mark.parametrize(
    "raw",
    [
        b"garbage\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # TLS bytes to an http request
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # ends before Content-Length
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"",  # closes without a response
    ],
)
def test_malformed_response(raw: bytes) -> None:
    hop, _ = run(one(raw))
    assert hop.status == HTTP_ERROR, hop
    assert hop.error is not None and "\n" not in hop.error


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.1.1", "shared"),
        ("203.0.113.5", "reserved"),
        ("not-an-ip", "invalid"),
    ],
)
def test_blocked_address_makes_no_connection(address: str, reason: str) -> None:
    async def main() -> tuple[Hop, Server, ConnectSpy]:
        spy = ConnectSpy()
        async with Server(reply(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) as server:
            hop = await fetch_from(server, address=address)
            await asyncio.sleep(0.01)  # a connection, had one been made, would be accepted by now
        return hop, server, spy

    hop, server, spy = run(main())
    assert hop.status == BLOCKED
    assert hop.error == f"blocked: {reason} address {address}"
    assert hop.connected is None and hop.http_status is None and hop.address == address
    assert server.connections == 0 and spy.calls == []


def test_allow_lets_a_blocked_address_through() -> None:
    async def main() -> tuple[Hop, Hop, Server]:
        async with Server(reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) as server:
            lab = await fetch_from(server, address="10.0.0.1", allow=lambda a: a == "10.0.0.1")
            # no connect_to: straight to the address (loopback, allowed) and the URL's port
            direct = await fetch(f"http://127.0.0.1:{server.port}/", address="127.0.0.1", allow=lambda a: True)
        return lab, direct, server

    lab, direct, server = run(main())
    assert lab.status == OK and lab.address == "10.0.0.1" and lab.connected == f"127.0.0.1:{server.port}"
    assert direct.status == OK and direct.connected == f"127.0.0.1:{server.port}" and direct.body == b"ok"
    assert server.connections == 2


def test_allow_cannot_pass_a_name() -> None:
    hop = run(fetch("http://site.test/", address="site.test", allow=lambda a: True))
    assert hop.status == BLOCKED and hop.error == "blocked: invalid address site.test"


@pytest.mark.parametrize(
    ("url", "connect_to"),
    [
        ("ftp://site.test/", None),
        ("http:///nohost", None),
        ("http://site.test:99999/", None),
        ("http://site.test/", ("10.0.0.1", 80)),
        ("http://site.test/", ("8.8.8.8", 80)),
        ("http://site.test/", ("localhost", 80)),
    ],
)
def test_programming_errors_raise(url: str, connect_to: tuple[str, int] | None) -> None:
    with pytest.raises(ValueError):
        run(fetch(url, address=PUBLIC, connect_to=connect_to))
