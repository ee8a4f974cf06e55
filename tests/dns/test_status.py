"""The one mapping from rcodes and exceptions to statuses."""

from __future__ import annotations

import dns.exception
import dns.message
import pytest

from crawler.dns import MalformedMessage, Status, to_status


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (0, Status.NOERROR),
        (1, Status.FORMERR),
        (2, Status.SERVFAIL),
        (3, Status.NXDOMAIN),
        (4, Status.NOTIMP),
        (5, Status.REFUSED),
        (9, Status.OTHER_RCODE),
        (16, Status.OTHER_RCODE),
        (TimeoutError(), Status.TIMEOUT),
        (dns.exception.Timeout(), Status.TIMEOUT),  # type: ignore[no-untyped-call]
        (dns.message.Truncated(), Status.TRUNCATED),  # type: ignore[no-untyped-call]
        (MalformedMessage(), Status.MALFORMED),
        (dns.exception.FormError(), Status.MALFORMED),  # type: ignore[no-untyped-call]
        (ConnectionRefusedError(), Status.NETWORK_ERROR),
        (PermissionError(), Status.NETWORK_ERROR),
        (RuntimeError(), Status.NETWORK_ERROR),
    ],
)
def test_to_status(outcome: int | BaseException, status: Status) -> None:
    assert to_status(outcome) is status


def test_statuses_are_stable_strings() -> None:
    assert [s.value for s in Status] == [
        "NOERROR", "NODATA", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP", "TIMEOUT",
        "TRUNCATED", "NETWORK_ERROR", "MALFORMED", "CNAME_LOOP", "OTHER_RCODE", "LAME",
    ]  # fmt: skip
    assert f"{Status.NXDOMAIN}" == "NXDOMAIN"
