"""TLS contexts for fetching: one that verifies, one that only captures a failing certificate.

A fetch always verifies first. Only when verification fails is the unverified context used, on a
second connection that sends no request, to record which certificate the site presented.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from pathlib import Path

ALPN = ["http/1.1"]


@dataclass(frozen=True)
class TlsPolicy:
    """The pair of client contexts a fetch uses."""

    verified: ssl.SSLContext
    """CERT_REQUIRED and check_hostname, against the trust store chosen in :func:`tls_policy`."""
    unverified: ssl.SSLContext
    """CERT_NONE: used only to capture the certificate that failed verification."""


def tls_policy(cafile: Path | None = None) -> TlsPolicy:
    """Build the contexts.

    :param cafile: None for the system trust store; a PEM bundle to trust ONLY that bundle
        (the lab's CA roots), not the system store as well.
    """
    # With a cafile, create_default_context loads that bundle and skips the system store.
    verified = ssl.create_default_context(cafile=None if cafile is None else str(cafile))
    verified.check_hostname = True
    verified.verify_mode = ssl.CERT_REQUIRED
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
