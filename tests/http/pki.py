"""A throwaway PKI for TLS tests: ECDSA P-256 CAs and leaves, written as PEM files."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as files: ``chain`` (leaf first) and ``key``."""

    cert: x509.Certificate
    key: Key
    chain: Path
    keyfile: Path

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def _name(cn: str, org: str | None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org is not None:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _write(folder: Path, stem: str, certs: list[x509.Certificate], key: Key) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    chain = folder / f"{stem}.pem"
    chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    keyfile = folder / f"{stem}.key"
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return chain, keyfile


def make_ca(folder: Path, stem: str, *, org: str | None, cn: str) -> Issued:
    """A self-signed root CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    name = _name(cn, org)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    chain, keyfile = _write(folder, stem, [cert], key)
    return Issued(cert, key, chain, keyfile)


def make_leaf(
    folder: Path,
    stem: str,
    issuer: Issued | None,
    *,
    cn: str | None,
    dns: Sequence[str],
    ips: Sequence[str] = (),
    days: tuple[int, int] = (-1, 30),
    serial: int | None = None,
) -> Issued:
    """A server certificate signed by ``issuer`` (self-signed when None), valid from ``days[0]``
    to ``days[1]`` days from now."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]) if cn else x509.Name([])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(now + timedelta(days=days[0]))
        .not_valid_after(now + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    chain, keyfile = _write(folder, stem, [cert], key)
    return Issued(cert, key, chain, keyfile)
