"""What a site's TLS certificate says, for attribution (issuer) and for the record (SANs, dates).

Certificates in the wild are odd: no O= in the issuer, no SAN extension, duplicate extensions,
negative serials. :func:`cert_info` reads each field on its own and leaves a field empty when it
cannot be read, so one odd field never loses the rest.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

logger = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class CertInfo:
    """The leaf certificate of one TLS connection."""

    sha256: str
    """Hex SHA-256 of the DER: the certificate's identity."""
    issuer_org: str | None
    """The issuer's O=, e.g. "Let's Encrypt"; None when absent."""
    issuer_cn: str | None
    subject_cn: str | None
    sans: tuple[str, ...]
    """DNS names (lower case) and IP addresses (as text) of the SAN extension, in cert order."""
    not_before: datetime
    """Naive UTC."""
    not_after: datetime
    """Naive UTC."""
    serial: str
    """Hex, lower case."""
    verified: bool
    """The chain and the host name were verified against the trust store in use."""
    verify_error: str | None
    """Why verification failed, when it did."""


def cert_info(der: bytes, *, verified: bool, verify_error: str | None = None) -> CertInfo:
    """Read a DER certificate into a :class:`CertInfo`.

    :param der: the certificate, as ``SSLSocket.getpeercert(binary_form=True)`` gives it.
    :param verified: whether the connection verified it.
    :param verify_error: the verification failure, for an unverified certificate.
    :returns: the fields; any field that cannot be read is None, empty, or the epoch for dates.
    :raises ValueError: when the bytes are not a certificate at all.
    """
    cert = x509.load_der_x509_certificate(der)
    return CertInfo(
        sha256=hashlib.sha256(der).hexdigest(),
        issuer_org=_name_attr(cert, "issuer", NameOID.ORGANIZATION_NAME),
        issuer_cn=_name_attr(cert, "issuer", NameOID.COMMON_NAME),
        subject_cn=_name_attr(cert, "subject", NameOID.COMMON_NAME),
        sans=_sans(cert),
        not_before=_date(cert, "not_valid_before_utc"),
        not_after=_date(cert, "not_valid_after_utc"),
        serial=_serial(cert),
        verified=verified,
        verify_error=verify_error,
    )


def _name_attr(cert: x509.Certificate, which: str, oid: x509.ObjectIdentifier) -> str | None:
    try:
        name: x509.Name = getattr(cert, which)
        attrs = name.get_attributes_for_oid(oid)
    except Exception:  # an unparsable Name: leave the field empty, keep the rest
        logger.debug("unreadable %s name", which, exc_info=True)
        return None
    if not attrs:
        return None
    value = attrs[0].value
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return text.strip() or None


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    except Exception:  # duplicate or malformed extensions
        logger.debug("unreadable SAN extension", exc_info=True)
        return ()
    out: list[str] = []
    for general_name in ext.value:
        if isinstance(general_name, x509.DNSName):
            out.append(general_name.value.lower())
        elif isinstance(general_name, x509.IPAddress):
            out.append(str(general_name.value))
    return tuple(out)


def _date(cert: x509.Certificate, attr: str) -> datetime:
    try:
        value: datetime = getattr(cert, attr)
    except Exception:
        logger.debug("unreadable %s", attr, exc_info=True)
        return _EPOCH
    return value.replace(tzinfo=None)


def _serial(cert: x509.Certificate) -> str:
    try:
        return format(cert.serial_number, "x")
    except Exception:
        logger.debug("unreadable serial", exc_info=True)
        return ""
