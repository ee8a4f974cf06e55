"""Fixtures of the fetch tests: a throwaway PKI, built once per module set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.http.pki import Issued, make_ca, make_leaf


@dataclass(frozen=True)
class Pki:
    ca: Issued
    """The trusted root: "Chokepoints Test CA" / "Chokepoints Test Root"."""
    good: Issued
    """site.test, www.site.test and 127.0.0.1, signed by ``ca``."""
    other_host: Issued
    """other.test only, signed by ``ca``."""
    expired: Issued
    """site.test, signed by ``ca``, expired yesterday."""
    rogue: Issued
    """site.test, signed by a CA nobody trusts."""
    self_signed: Issued
    """site.test, self-signed."""


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder: Path = tmp_path_factory.mktemp("pki")
    ca = make_ca(folder, "ca", org="Chokepoints Test CA", cn="Chokepoints Test Root")
    rogue_ca = make_ca(folder, "rogue-ca", org=None, cn="Rogue Root")
    return Pki(
        ca=ca,
        good=make_leaf(folder, "good", ca, cn="site.test", dns=["site.test", "WWW.site.test"], ips=["127.0.0.1"],
                       serial=0xC0FFEE),
        other_host=make_leaf(folder, "other", ca, cn="other.test", dns=["other.test"]),
        expired=make_leaf(folder, "expired", ca, cn="site.test", dns=["site.test"], days=(-30, -1)),
        rogue=make_leaf(folder, "rogue", rogue_ca, cn="site.test", dns=["site.test"]),
        self_signed=make_leaf(folder, "self", None, cn="site.test", dns=["site.test"]),
    )
