"""Outcome vocabulary of a DNS query, after zdns: every network outcome is a status, not an error.

A status is stored on each result row, so the set is closed and its values are stable strings.
"""

from __future__ import annotations

import logging
from enum import StrEnum

import dns.exception
import dns.message

from crawler.dns.errors import MalformedMessage

logger = logging.getLogger(__name__)


class Status(StrEnum):
    """The outcome of one query (or of a site, for :class:`crawler.dns.site.SiteLookup`)."""

    NOERROR = "NOERROR"
    """An answer of the asked type, or a CNAME chain, came back."""
    NODATA = "NODATA"
    """NOERROR, but no record of the asked type and no CNAME: the name exists, the type not."""
    NXDOMAIN = "NXDOMAIN"
    SERVFAIL = "SERVFAIL"
    REFUSED = "REFUSED"
    FORMERR = "FORMERR"
    NOTIMP = "NOTIMP"
    TIMEOUT = "TIMEOUT"
    """No answer within the timeout, after every retry."""
    TRUNCATED = "TRUNCATED"
    """The UDP answer had TC set and the TCP retry failed or was truncated too."""
    NETWORK_ERROR = "NETWORK_ERROR"
    """The query could not be sent (no route, permission, ...)."""
    MALFORMED = "MALFORMED"
    """A reply matched the query but its records could not be parsed."""
    CNAME_LOOP = "CNAME_LOOP"
    """The CNAME chain in the answer comes back to a name already in it."""
    OTHER_RCODE = "OTHER_RCODE"
    """An rcode outside the ones above (YXDOMAIN, NOTAUTH, ...); the number is on the result."""
    LAME = "LAME"
    """A referral instead of an answer (NS records, no answer, not authoritative): a lame or
    non-recursive server, which says nothing about the name (not NODATA)."""


_RCODES: dict[int, Status] = {
    0: Status.NOERROR,
    1: Status.FORMERR,
    2: Status.SERVFAIL,
    3: Status.NXDOMAIN,
    4: Status.NOTIMP,
    5: Status.REFUSED,
}


def to_status(outcome: int | BaseException) -> Status:
    """Map an rcode or an exception to a :class:`Status`; the one place where this is decided.

    :param outcome: a response code (0..4095) or the exception a query ended with (ours,
        asyncio's, the OS's or dnspython's, so that a dnspython baseline speaks the same words).
    :returns: the status; NOERROR for rcode 0 (NODATA is decided from the records, not here).
    """
    if isinstance(outcome, int):
        return _RCODES.get(outcome, Status.OTHER_RCODE)
    if isinstance(outcome, TimeoutError | dns.exception.Timeout):
        return Status.TIMEOUT
    if isinstance(outcome, dns.message.Truncated):
        return Status.TRUNCATED
    if isinstance(outcome, MalformedMessage | dns.exception.FormError | EOFError):
        return Status.MALFORMED
    if isinstance(outcome, OSError):
        return Status.NETWORK_ERROR
    logger.debug("unexpected DNS exception %r mapped to NETWORK_ERROR", outcome)
    return Status.NETWORK_ERROR
