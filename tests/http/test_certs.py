"""cert_info: the fields of a leaf, and odd certificates that must not raise."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.http import cert_info
from tests.http.conftest import Pki
from tests.http.pki import make_leaf


def test_fields(pki: Pki) -> None:
    info = cert_info(pki.good.der, verified=True)
    assert info.sha256 == hashlib.sha256(pki.good.der).hexdigest()
    assert info.issuer_org == "Chokepoints Test CA"
    assert info.issuer_cn == "Chokepoints Test Root"
    assert info.subject_cn == "site.test"
    assert info.sans == ("site.test", "www.site.test", "127.0.0.1")
    assert info.serial == "c0ffee"
    assert info.verified and info.verify_error is None
    assert info.not_before.tzinfo is None and info.not_after.tzinfo is None
    now = datetime.now(UTC).replace(tzinfo=None)
    assert info.not_before < now < info.not_after
    assert info.not_after - info.not_before == timedelta(days=31)


def test_bare_certificate(pki: Pki, tmp_path: Path) -> None:
    """No O in the issuer, no subject CN, no SAN extension: empty fields, no exception."""
    bare = make_leaf(tmp_path, "bare", None, cn=None, dns=[])
    info = cert_info(bare.der, verified=False, verify_error="self-signed certificate")
    assert (info.issuer_org, info.issuer_cn, info.subject_cn, info.sans) == (None, None, None, ())
    assert not info.verified and info.verify_error == "self-signed certificate"


def test_issuer_without_org(pki: Pki) -> None:
    info = cert_info(pki.rogue.der, verified=False)
    assert info.issuer_org is None and info.issuer_cn == "Rogue Root"


def test_not_a_certificate() -> None:
    with pytest.raises(ValueError):
        cert_info(b"\x30\x03\x02\x01\x00", verified=False)
