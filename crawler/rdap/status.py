"""RDAP lookup outcomes: a status on every cached row, never an exception.

``OK`` and ``NOT_FOUND`` are answers; the transient failures (:data:`RETRYABLE`) are cached
so that a run can report them, but a later run asks again. Other HTTP failures are cached as
``HTTP_<code>`` (a 3xx code is a redirect the client refused to follow).
"""

from __future__ import annotations

from enum import StrEnum


class RdapStatus(StrEnum):
    """The outcome of one RDAP lookup (``HTTP_<code>`` is built by :func:`http_status`)."""

    OK = "OK"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    MALFORMED = "MALFORMED"
    TIMEOUT = "TIMEOUT"
    NETWORK_ERROR = "NETWORK_ERROR"


def http_status(code: int) -> str:
    """The status string for an HTTP error code the client does not map to a named status."""
    if code == 404:
        return RdapStatus.NOT_FOUND
    if code == 429:
        return RdapStatus.RATE_LIMITED
    return f"HTTP_{code}"


#: statuses a later run asks again: the server or the path to it may well answer next time
RETRYABLE: frozenset[str] = frozenset(
    {
        RdapStatus.RATE_LIMITED,
        RdapStatus.TIMEOUT,
        RdapStatus.NETWORK_ERROR,
        RdapStatus.MALFORMED,
        *(f"HTTP_{code}" for code in (500, 502, 503, 504)),
    }
)


def is_retryable(status: str) -> bool:
    """True when a cached row with this status must not stop a later run from asking again."""
    return status in RETRYABLE
