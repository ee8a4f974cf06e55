"""The lab's certificate authorities: roots, issuing CAs and leaf certificates on demand.

Each lab CA copies a real one's names (root ``O="Internet Security Research Group",
CN="ISRG Root X1 (lab)"``, issuing ``O="Let's Encrypt", CN="R11"``), so a leaf's issuer
Organization is what attribution reads (DESIGN.md, "Attribution": certificate issuer). The list
is data-driven: every CA provider of the registry (``layers`` holding ``ca``) gets a lab CA whose
issuing Organization is the registry's first ``issuer_orgs`` entry; without CA providers in the
registry the built-in list stands in. The truth names a CA as attribution does:
``Registry.match_issuer(org)``, else ``org:<slug>``. Two more CAs are always there: a small regional CA the
registry does not know (a trusted root; attribution names it ``org:<issuer org>``) and an
*untrusted* root, left out of the published bundle, for invalid certificates.

Which CAs a world uses is decided when it is generated (``cas.json``, deterministic); their keys
and certificates are made at ``lab up`` (:func:`write_authorities`): ``ca/<key>.root.pem``,
``ca/<key>.issuing.pem`` and ``ca/<key>.issuing.key``, and ``ca.pem``, the bundle of the trusted
roots a lab crawl verifies against. Leaf certificates are issued lazily by the web endpoint
(:func:`issue_leaf`), ECDSA P-256 throughout (fast). TLS verification uses the current clock
while worlds are dated, so a valid leaf covers both the world's date and now
(:func:`leaf_window`); an expired one ended well before now.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from crawler.registry import Registry

CAS_FILE = "cas.json"
CA_DIR = "ca"
BUNDLE = "ca.pem"
UNTRUSTED = "untrusted"
REGIONAL = "nordcert"
#: the names a wrong-name certificate is issued for (a shared host's default certificate)
WRONG_NAME = "*.shared-hosting.invalid"
_CA_START = datetime(2020, 1, 1, tzinfo=UTC)
_CA_END = datetime(2045, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LabCA:
    """One lab CA: a root and the issuing CA below it (leaves are signed by the issuing CA).

    :param key: short id, used in file names and in ``web.tsv``.
    :param provider: the registry provider attribution should name (``None``: unknown to it).
    :param trusted: whether its root is in the published bundle.
    """

    key: str
    root_org: str
    root_cn: str
    issuing_org: str
    issuing_cn: str
    provider: str | None
    trusted: bool = True


# fmt: off
BUILTIN = (
    LabCA("letsencrypt", "Internet Security Research Group", "ISRG Root X1 (lab)", "Let's Encrypt", "R11",
          "letsencrypt"),
    LabCA("google-trust-services", "Google Trust Services LLC", "GTS Root R1 (lab)", "Google Trust Services",
          "WR1", "google-trust-services"),
    LabCA("digicert", "DigiCert Inc", "DigiCert Global Root G2 (lab)", "DigiCert Inc",
          "DigiCert Global G2 TLS RSA SHA256 2020 CA1", "digicert"),
    LabCA("sectigo", "The USERTRUST Network", "USERTrust RSA Certification Authority (lab)", "Sectigo Limited",
          "Sectigo RSA Domain Validation Secure Server CA", "sectigo"),
    LabCA("amazon-trust-services", "Amazon", "Amazon Root CA 1 (lab)", "Amazon", "Amazon RSA 2048 M02",
          "amazon-trust-services"),
    LabCA("globalsign", "GlobalSign nv-sa", "GlobalSign Root R3 (lab)", "GlobalSign nv-sa",
          "GlobalSign GCC R3 DV TLS CA 2020", "globalsign"),
    LabCA("godaddy", "GoDaddy.com, Inc.", "Go Daddy Root Certificate Authority - G2 (lab)", "GoDaddy.com, Inc.",
          "Go Daddy Secure Certificate Authority - G2", "godaddy"),
    LabCA("zerossl", "The USERTRUST Network", "USERTrust ECC Certification Authority (lab)", "ZeroSSL",
          "ZeroSSL ECC Domain Secure Site CA", "zerossl"),
    LabCA("microsoft-pki", "Microsoft Corporation", "Microsoft RSA Root Certificate Authority 2017 (lab)",
          "Microsoft Corporation", "Microsoft Azure RSA TLS Issuing CA 03", "microsoft-pki"),
    LabCA("entrust", "Entrust, Inc.", "Entrust Root Certification Authority - G2 (lab)", "Entrust, Inc.",
          "Entrust Certification Authority - L1K", "entrust"),
)
# a small regional CA no registry names: its Organization is a lower-case slug on purpose, so
# "org:<issuer org>" reads the same whether attribution keeps the org as is or slugs it
REGIONAL_CA = LabCA(REGIONAL, "nordcert", "Nordcert Root CA 2021 (lab)", "nordcert", "Nordcert TLS Issuing CA 1",
                    None)
UNTRUSTED_CA = LabCA(UNTRUSTED, "Lab Untrusted Authority", "Lab Untrusted Root CA", "Lab Untrusted Authority",
                     "Lab Untrusted Root CA", None, trusted=False)
# fmt: on


def _issuer_orgs(reg: Registry) -> dict[str, list[str]]:
    """Each CA provider's issuer organisations as the registry file spells them (the loaded
    registry keeps them normalised, lower case)."""
    try:
        doc = tomllib.loads(Path(reg.path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {entry["id"]: list(entry["issuer_orgs"]) for entry in doc.get("provider", [])
            if entry.get("issuer_orgs") and entry.get("id") in reg.providers}


def authorities(reg: Registry) -> list[LabCA]:
    """The lab CAs of a world: one per registry CA provider (else the built-in list), the
    regional CA and the untrusted one, in a fixed order (the first ones are the most used)."""
    builtin = {ca.provider: ca for ca in BUILTIN}
    orgs = _issuer_orgs(reg)
    ca_providers = [p.id for p in reg.with_layer("ca") if p.id in orgs]
    if not ca_providers:
        return [*BUILTIN, REGIONAL_CA, UNTRUSTED_CA]
    order = [ca.provider for ca in BUILTIN if ca.provider in ca_providers]
    order += [p for p in ca_providers if p not in order]
    out: list[LabCA] = []
    for pid in order:
        if pid is None:  # pragma: no cover - BUILTIN providers are all set
            continue
        base = builtin.get(pid)
        org = orgs[pid][0]
        if base is None:
            name = reg.name(pid) or pid
            out.append(LabCA(pid, org, f"{name} Root CA (lab)", org, f"{name} TLS CA 1", pid))
        elif base.issuing_org in orgs[pid]:
            out.append(base)
        else:
            root_org = org if base.root_org == base.issuing_org else base.root_org
            out.append(LabCA(base.key, root_org, base.root_cn, org, base.issuing_cn, pid))
    return [*out, REGIONAL_CA, UNTRUSTED_CA]


def write_cas(path: Path, cas: list[LabCA]) -> None:
    """Write the world's CA list (``cas.json``)."""
    path.write_text(json.dumps([asdict(ca) for ca in cas], indent=1) + "\n", encoding="utf-8")


def read_cas(path: Path) -> list[LabCA]:
    """Read ``cas.json``."""
    rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return [LabCA(**row) for row in rows]


# -- keys and certificates -------------------------------------------------------------------


def _name(org: str, cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _serial(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big") >> 1 or 1


def _ca_cert(
    subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey,
    *, path_length: int | None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(_serial(subject.rfc4514_string()))
        .not_valid_before(_CA_START)
        .not_valid_after(_CA_END)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if signer is not key:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_authorities(state_dir: Path) -> Path:
    """Make every CA of ``cas.json`` (keys and certificates) and the trusted bundle.

    :returns: the bundle's path (``ca.pem``: the trusted roots only).
    """
    cas = read_cas(state_dir / CAS_FILE)
    folder = state_dir / CA_DIR
    folder.mkdir(exist_ok=True)
    bundle: list[bytes] = []
    for ca in cas:
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name(ca.root_org, ca.root_cn)
        root = _ca_cert(root_name, root_key, root_name, root_key, path_length=None)
        if ca.key == UNTRUSTED:  # leaves are signed by the root itself: no issuing CA
            issuing, issuing_key = root, root_key
        else:
            issuing_key = ec.generate_private_key(ec.SECP256R1())
            issuing = _ca_cert(_name(ca.issuing_org, ca.issuing_cn), issuing_key, root_name, root_key,
                               path_length=0)
        root_pem = root.public_bytes(serialization.Encoding.PEM)
        (folder / f"{ca.key}.root.pem").write_bytes(root_pem)
        (folder / f"{ca.key}.issuing.pem").write_bytes(issuing.public_bytes(serialization.Encoding.PEM))
        key_file = folder / f"{ca.key}.issuing.key"
        key_file.write_bytes(_pem_key(issuing_key))
        key_file.chmod(0o600)
        if ca.trusted:
            bundle.append(root_pem)
    path = state_dir / BUNDLE
    path.write_bytes(b"".join(bundle))
    return path


@dataclass(frozen=True, slots=True)
class Issuer:
    """A loaded issuing CA: its certificate (sent after the leaf) and its key."""

    ca: LabCA
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    chain_pem: bytes  # what follows the leaf in the handshake ("" for a root-signed leaf)


def load_issuers(state_dir: Path) -> dict[str, Issuer]:
    """The issuing CAs :func:`write_authorities` made, by key."""
    out: dict[str, Issuer] = {}
    for ca in read_cas(state_dir / CAS_FILE):
        folder = state_dir / CA_DIR
        pem = (folder / f"{ca.key}.issuing.pem").read_bytes()
        key = serialization.load_pem_private_key((folder / f"{ca.key}.issuing.key").read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - we wrote it
            raise TypeError(f"{ca.key}: not an EC key")
        out[ca.key] = Issuer(ca, x509.load_pem_x509_certificate(pem), key, b"" if ca.key == UNTRUSTED else pem)
    return out


def leaf_window(kind: str, world_date: date, now: datetime) -> tuple[datetime, datetime]:
    """The validity of a leaf: valid ones cover the world's date and now; expired ones ended
    30 days before now (a crawl verifies against the current clock).

    :param kind: ``expired`` or anything else (valid).
    """
    now = now.astimezone(UTC).replace(microsecond=0)
    world = datetime(world_date.year, world_date.month, world_date.day, tzinfo=UTC)
    if kind == "expired":
        end = now - timedelta(days=30)
        return end - timedelta(days=90), end
    return min(world, now) - timedelta(days=30), max(world + timedelta(days=60), now + timedelta(days=365))


def issue_leaf(
    issuer: Issuer, host: str, names: list[str], key: ec.EllipticCurvePrivateKey,
    window: tuple[datetime, datetime],
) -> bytes:
    """A leaf for *host* with SANs *names*, signed by *issuer*: the PEM chain (leaf, issuing CA)."""
    leaf = issue_leaf_cert(issuer, host, names, key, window)
    return leaf.public_bytes(serialization.Encoding.PEM) + issuer.chain_pem


def issue_leaf_cert(
    issuer: Issuer, host: str, names: list[str], key: ec.EllipticCurvePrivateKey,
    window: tuple[datetime, datetime],
) -> x509.Certificate:
    """A leaf for *host* with SANs *names* (the first also its CN, unless it is longer than the
    64 characters X.509 allows a CN: then the SANs alone name it, as CAs do), signed by *issuer*."""
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, names[0])] if len(names[0]) <= 64 else []
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(_serial(f"{issuer.ca.key}/{host}/{window[0].isoformat()}"))
        .not_valid_before(window[0])
        .not_valid_after(window[1])
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    return builder.sign(issuer.key, hashes.SHA256())


def new_leaf_key() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    """One key for every leaf the endpoint issues (the lab needs no per-host keys), and its PEM
    in the traditional format (OpenSSL 3 loads it twice as fast as PKCS#8)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption())
