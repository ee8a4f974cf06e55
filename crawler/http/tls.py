"""TLS contexts for fetching: one that verifies, one that only captures a failing certificate.

A fetch always verifies first. Only when verification fails is the unverified context used, on a
second connection that sends no request, to record which certificate the site presented.

The verifying context is a :class:`SessionContext`: it offers a host the TLS session of its last
verified connection to that same host name. A site's robots.txt and its home page are two
connections to one host a moment apart, so the second resumes the first: no certificate sent or
verified again and no signature from the server, which halves the client's handshake CPU (1.25 →
0.69 ms against the lab endpoint) and saves the server's too. It is on only where reading a
connection's session does not leak (:func:`default_sessions`).
"""

from __future__ import annotations

import functools
import ssl
import sys
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

ALPN = ["http/1.1"]
#: TLS sessions kept for resumption, one per host name (the least recently used are dropped, about
#: 12 kB each); a robots.txt session is needed only until the home page's request, a moment later,
#: and at most ``CONCURRENT_REQUESTS`` hosts are between the two at once
MAX_SESSIONS = 1024


def default_sessions() -> int:
    """:data:`MAX_SESSIONS`, or 0 (no resumption) on a Python whose ``SSLObject.session`` leaks a
    copy of the session (about 6 kB) on every read: 3.10 to 3.12.6 and 3.13.0 (CPython
    gh-116810, fixed in 3.12.7; 3.13.0 measured leaking)."""
    version = sys.version_info[:3]
    leaks = version < (3, 12, 7) or version == (3, 13, 0)
    return 0 if leaks else MAX_SESSIONS


class SessionContext(ssl.SSLContext):
    """A client context that resumes, per host name, the session of its last connection there.

    Sessions come only from connections made with this context, so only from handshakes it
    verified, and each is offered only to the name it was verified for: a resumed connection is
    as verified as the one it resumes (OpenSSL refuses a session of another context, and a server
    without the session's keys just does a full handshake, verified as usual). The certificate of
    a resumed connection is the session's, as ``getpeercert`` reports it.
    """

    max_sessions: int
    _sessions: OrderedDict[str, ssl.SSLSession]

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        """As :meth:`ssl.SSLContext.wrap_bio` (what asyncio calls), with the host's session offered."""
        if session is None and isinstance(server_hostname, str) and not server_side:
            session = self._sessions.get(server_hostname.lower())
        return super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)

    def remember(self, host: str, ssl_object: ssl.SSLObject) -> None:
        """Keep the session of a connection to ``host`` once its exchange is done (TLS 1.3 sends
        the tickets after the handshake)."""
        if self.max_sessions <= 0:
            return  # not even read: on some Pythons every read leaks a copy (default_sessions)
        session = ssl_object.session
        if session is None:
            return
        host = host.lower()
        self._sessions[host] = session
        self._sessions.move_to_end(host)
        if len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)


@dataclass(frozen=True)
class TlsPolicy:
    """The pair of client contexts a fetch uses."""

    verified: ssl.SSLContext
    """CERT_REQUIRED and check_hostname, against the trust store chosen in :func:`tls_policy`
    (a :class:`SessionContext` when it comes from there)."""
    unverified: ssl.SSLContext
    """CERT_NONE: used only to capture the certificate that failed verification."""

    def remember(self, host: str, ssl_object: ssl.SSLObject) -> None:
        """Keep a verified connection's session for the next connection to ``host``."""
        if isinstance(self.verified, SessionContext):
            self.verified.remember(host, ssl_object)


def tls_policy(cafile: Path | None = None, *, max_sessions: int | None = None) -> TlsPolicy:
    """Build the contexts.

    :param cafile: None for the system trust store; a PEM bundle to trust ONLY that bundle
        (the lab's CA roots), not the system store as well.
    :param max_sessions: TLS sessions kept for resumption (0: every connection does a full
        handshake; None: :func:`default_sessions`).
    """
    # As ssl.create_default_context(cafile=...) does, on our subclass: with a cafile, that bundle
    # is loaded and the system store skipped.
    verified = SessionContext(ssl.PROTOCOL_TLS_CLIENT)
    verified.max_sessions = default_sessions() if max_sessions is None else max_sessions
    verified._sessions = OrderedDict()
    verified.check_hostname = True
    verified.verify_mode = ssl.CERT_REQUIRED
    if cafile is None:
        verified.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        verified.load_verify_locations(cafile=str(cafile))
    unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    for ctx in (verified, unverified):
        ctx.set_alpn_protocols(ALPN)
        # Many servers end a close-delimited body without close_notify; take that as the end
        # of the body rather than an error, as browsers and curl do.
        ctx.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    return TlsPolicy(verified=verified, unverified=unverified)


@functools.cache
def default_policy() -> TlsPolicy:
    """The system-trust-store policy, built once per process."""
    return tls_policy()
