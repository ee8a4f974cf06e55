"""fetch over TLS: verified certificates recorded, invalid ones captured without a request,
handshake failures and stalls told apart."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.http import OK, TIMEOUT, TLS_ERROR, TLS_INVALID, Hop, TlsPolicy, fetch, tls_policy
from crawler.http.tls import MAX_SESSIONS, SessionContext, default_sessions
from tests.http.conftest import Pki
from tests.http.pki import Issued
from tests.http.server import ConnectSpy, Server, reply, tls_server_context
from tests.http.test_fetch import PUBLIC, run

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")

PAGE = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<p>secure</p>"


@pytest.fixture(scope="module")
def policy(pki: Pki) -> TlsPolicy:
    return tls_policy(cafile=pki.ca.chain)


async def record_all(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
    """Whatever a client sends, recorded; no answer."""
    await server.read_all(reader)


async def fetch_tls(issued: Issued, policy: TlsPolicy, *, host: str = "site.test", handler: Any = None,
                    **kwargs: Any) -> tuple[Hop, Server]:
    tls = tls_server_context(issued.chain, issued.keyfile)
    async with Server(handler or reply(PAGE), tls=tls) as server:
        hop = await fetch(f"https://{host}:{server.port}/", address=PUBLIC, connect_to=server.endpoint,
                          tls=policy, **kwargs)
        await asyncio.sleep(0.05)  # let the server's handlers see the end of every connection
    return hop, server


def test_verified(pki: Pki, policy: TlsPolicy) -> None:
    hop, server = run(fetch_tls(pki.good, policy))
    assert hop.status == OK and hop.http_status == 200 and hop.body == b"<p>secure</p>"
    assert hop.tls_version in ("TLSv1.2", "TLSv1.3")
    assert hop.cert is not None
    assert hop.cert.verified and hop.cert.verify_error is None
    assert hop.cert.issuer_org == "Chokepoints Test CA" and hop.cert.issuer_cn == "Chokepoints Test Root"
    assert hop.cert.subject_cn == "site.test"
    assert hop.cert.sans == ("site.test", "www.site.test", "127.0.0.1")
    assert server.connections == 1 and server.received[0].startswith(b"GET / HTTP/1.1\r\n")


def test_close_without_close_notify(pki: Pki, policy: TlsPolicy) -> None:
    """A close-delimited body ended by a bare TCP close, as many servers do, is complete."""
    raw = b"HTTP/1.0 200 OK\r\n\r\n" + b"z" * 50_000
    hop, _ = run(fetch_tls(pki.good, policy, handler=reply(raw, abort=True)))
    assert hop.status == OK and hop.body == b"z" * 50_000


@pytest.mark.parametrize(
    ("which", "host", "message"),
    [
        ("rogue", "site.test", "unable to get local issuer certificate"),
        ("self_signed", "site.test", "self-signed certificate"),
        ("other_host", "site.test", "Hostname mismatch"),
        ("good", "elsewhere.test", "Hostname mismatch"),
        ("expired", "site.test", "certificate has expired"),
    ],
)
def test_invalid_certificate_captured_without_request(
    pki: Pki, policy: TlsPolicy, which: str, host: str, message: str
) -> None:
    issued: Issued = getattr(pki, which)

    async def main() -> tuple[Hop, Server, ConnectSpy]:
        spy = ConnectSpy()
        hop, server = await fetch_tls(issued, policy, host=host, handler=record_all)
        return hop, server, spy

    hop, server, spy = run(main())
    assert hop.status == TLS_INVALID, hop
    assert hop.error is not None and message in hop.error and hop.error.startswith("certificate verify failed")
    assert hop.http_status is None and hop.headers == [] and hop.body == b""
    assert hop.cert is not None and not hop.cert.verified
    assert hop.cert.sha256 == __import__("hashlib").sha256(issued.der).hexdigest()
    assert hop.cert.verify_error is not None and message in hop.cert.verify_error
    assert len(spy.calls) == 2  # the verifying connection and the capturing one
    assert all(data == b"" for data in server.received)  # not a byte of HTTP on either


def test_system_store_does_not_trust_the_lab(pki: Pki) -> None:
    hop, _ = run(fetch_tls(pki.good, tls_policy()))
    assert hop.status == TLS_INVALID and hop.cert is not None and hop.cert.issuer_org == "Chokepoints Test CA"


async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
    await reader.read(10)  # the start of the ClientHello
    writer.transport.abort()


async def answer_plaintext(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
    await reader.read(10)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    writer.close()


async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
    await asyncio.sleep(30)


async def plain_server_fetch(handler: Any, policy: TlsPolicy, **kwargs: Any) -> Hop:
    async with Server(handler) as server:  # no TLS on the server side
        return await fetch(f"https://site.test:{server.port}/", address=PUBLIC, connect_to=server.endpoint,
                           tls=policy, **kwargs)


@pytest.mark.parametrize("handler", [close_at_once, answer_plaintext])
def test_handshake_failure(policy: TlsPolicy, handler: Any) -> None:
    hop = run(plain_server_fetch(handler, policy))
    assert hop.status == TLS_ERROR, hop
    assert hop.error is not None and hop.error.startswith("TLS handshake") and "\n" not in hop.error
    assert hop.connected is not None and hop.cert is None


def test_stalled_handshake_times_out_at_connect_timeout(policy: TlsPolicy) -> None:
    hop = run(plain_server_fetch(stall, policy, connect_timeout=0.3, timeout=5.0))
    assert hop.status == TIMEOUT and hop.error is not None and "TLS handshake" in hop.error
    assert 250 <= hop.elapsed_ms < 1000


def test_policy_trusts_only_the_given_bundle(pki: Pki, tmp_path: Path) -> None:
    policy = tls_policy(cafile=pki.ca.chain)
    assert len(policy.verified.get_ca_certs()) == 1
    assert policy.verified.check_hostname and policy.unverified.verify_mode.name == "CERT_NONE"


def resumed_reply(resumed: list[bool]) -> Any:
    """A handler that records whether the client resumed a session, then answers PAGE."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        resumed.append(bool(writer.get_extra_info("ssl_object").session_reused))
        await reply(PAGE)(reader, writer, server)

    return handler


async def fetch_twice(issued: Issued, policy: TlsPolicy, hosts: tuple[str, str]) -> tuple[list[Hop], list[bool]]:
    resumed: list[bool] = []
    async with Server(resumed_reply(resumed), tls=tls_server_context(issued.chain, issued.keyfile)) as server:
        hops = [await fetch(f"https://{host}:{server.port}/", address=PUBLIC, connect_to=server.endpoint, tls=policy)
                for host in hosts]
        await asyncio.sleep(0.05)
    return hops, resumed


def test_next_connection_to_a_host_resumes_its_session(pki: Pki) -> None:
    """robots.txt then the home page: the second handshake resumes the first's session, and the
    hop still carries the verified certificate."""
    policy = tls_policy(cafile=pki.ca.chain, max_sessions=MAX_SESSIONS)
    hops, resumed = run(fetch_twice(pki.good, policy, ("site.test", "site.test")))
    assert resumed == [False, True]
    assert all(h.status == OK and h.cert is not None and h.cert.verified for h in hops)
    assert hops[0].cert == hops[1].cert and hops[1].tls_version == hops[0].tls_version


@pytest.mark.parametrize(("hosts", "sessions"),
                         [(("site.test", "www.site.test"), MAX_SESSIONS), (("site.test", "site.test"), 0)])
def test_session_only_for_its_host_name_and_only_when_kept(pki: Pki, hosts: tuple[str, str], sessions: int) -> None:
    hops, resumed = run(fetch_twice(pki.good, tls_policy(cafile=pki.ca.chain, max_sessions=sessions), hosts))
    assert resumed == [False, False] and all(h.status == OK for h in hops)


def test_session_of_another_server_is_not_trusted(pki: Pki) -> None:
    """A session offered to a server without its keys: a full handshake, verified, so an invalid
    certificate there is still TLS_INVALID."""
    policy = tls_policy(cafile=pki.ca.chain, max_sessions=MAX_SESSIONS)
    first, _ = run(fetch_twice(pki.good, policy, ("site.test", "site.test")))
    assert first[1].status == OK
    hop, _ = run(fetch_tls(pki.expired, policy, handler=record_all))
    assert hop.status == TLS_INVALID and hop.cert is not None and not hop.cert.verified


@pytest.mark.parametrize(("version", "sessions"), [((3, 11, 7), 0), ((3, 12, 6), 0), ((3, 12, 7), MAX_SESSIONS),
                                                   ((3, 13, 0), 0), ((3, 13, 1), MAX_SESSIONS)])
def test_no_resumption_where_reading_a_session_leaks(monkeypatch: pytest.MonkeyPatch, version: tuple[int, int, int],
                                                     sessions: int) -> None:
    """CPython gh-116810: ``SSLObject.session`` leaks a copy of the session on every read."""
    monkeypatch.setattr(sys, "version_info", (*version, "final", 0))
    assert default_sessions() == sessions
    policy = tls_policy()
    assert isinstance(policy.verified, SessionContext) and policy.verified.max_sessions == sessions


def test_session_not_even_read_when_none_are_kept() -> None:
    """On the Pythons of gh-116810 reading ``SSLObject.session`` is what leaks."""

    class Unreadable:
        @property
        def session(self) -> Any:
            raise AssertionError("session read")

    tls_policy(max_sessions=0).remember("site.test", Unreadable())  # type: ignore[arg-type]
