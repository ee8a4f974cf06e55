"""A throwaway PKI for the hostile web server: one trusted root, one untrusted, and leaves of
every kind a crawler must refuse (self-signed, unknown CA, expired, wrong name).

ECDSA P-256 throughout (fast to make); written as PEM files in one folder. The trusted root
alone goes into the bundle the crawl verifies against (``ca.pem``).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUSTED_ORG = "Fault Lab Trust"
UNTRUSTED_ORG = "Fault Lab Untrusted Authority"
#: the only name a wrong-name certificate is valid for
WRONG_NAME = "*.shared-hosting.invalid"


class CertKind(StrEnum):
    """What a host's certificate is like."""

    VALID = "valid"
    SELF_SIGNED = "self_signed"
    UNKNOWN_CA = "unknown_ca"  # issued by a root that is not in the bundle
    EXPIRED = "expired"  # by the trusted root, ended yesterday
    WRONG_NAME = "wrong_name"  # by the trusted root, for another name


@dataclass(frozen=True, slots=True)
class _Authority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _name(org: str, cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _root(org: str, cn: str, now: datetime) -> _Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(org, cn)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=2)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _Authority(cert, key)


class FaultPki:
    """The roots, made once; :meth:`server_context` issues a host's leaf of the asked kind.

    :param folder: where the PEM files go (``ca.pem`` the bundle, ``<host>.pem``/``.key`` leaves).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.now = datetime.now(UTC)
        self.trusted = _root(TRUSTED_ORG, "Fault Lab Root CA", self.now)
        self.untrusted = _root(UNTRUSTED_ORG, "Fault Lab Untrusted Root", self.now)
        self.bundle = folder / "ca.pem"
        self.bundle.write_bytes(self.trusted.cert.public_bytes(serialization.Encoding.PEM))

    def leaf(self, host: str, kind: CertKind) -> tuple[Path, Path]:
        """``(chain, key)`` PEM files of a certificate for ``host`` of the given kind."""
        key = ec.generate_private_key(ec.SECP256R1())
        signer = {CertKind.SELF_SIGNED: None, CertKind.UNKNOWN_CA: self.untrusted}.get(kind, self.trusted)
        names = [WRONG_NAME] if kind is CertKind.WRONG_NAME else [host]
        start, end = ((self.now - timedelta(days=90), self.now - timedelta(days=1)) if kind is CertKind.EXPIRED
                      else (self.now - timedelta(days=1), self.now + timedelta(days=20)))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(signer.cert.subject if signer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        )
        if signer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()), critical=False)
        cert = builder.sign(signer.key if signer else key, hashes.SHA256())
        chain, keyfile = self.folder / f"{host}.pem", self.folder / f"{host}.key"
        chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        return chain, keyfile

    def server_context(self, host: str, kind: CertKind) -> ssl.SSLContext:
        """A server-side TLS context presenting ``host``'s certificate of the given kind."""
        chain, keyfile = self.leaf(host, kind)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain, keyfile)
        return ctx
