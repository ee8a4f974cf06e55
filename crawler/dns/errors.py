"""Exceptions of the DNS engine: few, the docstring as default message.

Network outcomes (timeouts, SERVFAIL, truncation, ...) are never exceptions: they are
:class:`crawler.dns.status.Status` values on the results. These exceptions are for bytes that
cannot be a DNS message and for inputs that cannot be sent at all.
"""

from __future__ import annotations

from chokepoints.errors import ChokepointsError, UserError


class MalformedMessage(ChokepointsError):
    """The bytes are not a well-formed DNS message."""


class InvalidName(ChokepointsError, ValueError):
    """The name cannot be sent in a query: empty label, label over 63 or name over 255 bytes."""


class InvalidResolver(UserError, ValueError):
    """The resolver must be an IP address with an optional port: HOST, HOST:PORT or [IPV6]:PORT."""
