"""A live lab: Knot behind Unbound on loopback answers like the world's files say.

Needs ``knotd`` and ``unbound`` (Debian packages ``knot``, ``unbound``) and the shared data.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.rdatatype
import dns.resolver
import dns.zone
import pytest

from chokepoints.errors import LabError
from scripts.lab import api, servers
from scripts.lab.testing import lab_resolver, running_lab
from scripts.lab.world import default_data_dir


def _installed(name: str) -> bool:
    try:
        servers.find_binary(name)
    except LabError:
        return False
    return True


pytestmark = [
    pytest.mark.skipif(
        not (default_data_dir() / "provider_ranges").is_dir(), reason="reference data not found"
    ),
    pytest.mark.skipif(
        not (_installed("knotd") and _installed("unbound")),
        reason="knotd/unbound not installed (apt-get install knot unbound)",
    ),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state_dir = tmp_path_factory.mktemp("lab")
    with running_lab(state_dir, sites=300, seed=5) as state:
        yield state
    assert api.status(state_dir) is None
    for name, pid in state["pids"].items():
        assert not servers.is_running(pid, state["configs"][name]), name


@pytest.fixture(scope="module")
def world(lab: dict[str, Any]) -> dict[str, Any]:
    """The world's records, apex NS and truth, read from its files."""
    state_dir = Path(lab["state_dir"])
    zone = dns.zone.from_file(str(state_dir / "root.zone"), origin=".", relativize=False)
    rec: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for name, rdataset in zone.iterate_rdatasets():
        rec[name.to_text().rstrip(".")][dns.rdatatype.to_text(rdataset.rdtype)] = {
            r.to_text() for r in rdataset
        }
    ns: dict[str, set[str]] = defaultdict(set)
    local = (state_dir / "unbound-local.conf").read_text()
    for m in re.finditer(r'local-data: "([^ ]+)\. \d+ IN NS ([^ ]+\.)"', local):
        ns[m[1]].add(m[2])
    with open(lab["list"]) as fh:
        listed = [r["domain"] for r in csv.DictReader(fh)]
    return {"rec": rec, "ns": ns, "listed": listed}


def _answer(res: dns.resolver.Resolver, name: str, rdtype: str) -> dict[str, set[str]]:
    """name -> rdata texts of every RRset in the answer section (CNAME chain included)."""
    reply = res.resolve(name, rdtype, raise_on_no_answer=False).response
    out: dict[str, set[str]] = defaultdict(set)
    for rrset in reply.answer:
        out[rrset.name.to_text().rstrip(".")] |= {r.to_text() for r in rrset}
    return out


def test_state(lab: dict[str, Any]) -> None:
    for key in ("resolver", "knot", "list", "asn_db", "truth", "world", "pids", "date"):
        assert key in lab
    assert lab["resolver"].startswith("127.0.0.1:") and lab["sites"] == 300
    status = api.status(Path(lab["state_dir"]))
    assert status is not None and status["healthy"]


def test_every_record_type(lab: dict[str, Any], world: dict[str, Any]) -> None:
    res, rec, ns = lab_resolver(lab), world["rec"], world["ns"]
    checked: dict[str, int] = defaultdict(int)
    for domain in ns:
        apex = rec[domain]
        assert _answer(res, domain, "NS")[domain] == ns[domain]
        soa = _answer(res, domain, "SOA")[domain]
        assert len(soa) == 1 and next(iter(soa)).split()[0] in ns[domain]
        for rdtype in ("A", "AAAA", "MX"):
            got = _answer(res, domain, rdtype).get(domain, set())
            assert got == apex.get(rdtype, set()), (domain, rdtype)
            checked[rdtype] += bool(got)
        www = f"www.{domain}"
        if www not in rec:
            with pytest.raises(dns.resolver.NXDOMAIN):
                res.resolve(www, "A")
            checked["no-www"] += 1
            continue
        chain = _answer(res, www, "A")
        name = www
        while "CNAME" in rec[name]:  # the whole chain, hop by hop, as in the zone
            assert chain[name] == rec[name]["CNAME"]
            name = next(iter(rec[name]["CNAME"])).rstrip(".")
            checked["cname-hop"] += 1
        assert chain.get(name, set()) == rec[name].get("A", set())  # IPv6-only: no A
        for host in ns[domain]:
            host = host.rstrip(".")
            assert _answer(res, host, "A")[host] == rec[host]["A"]
    assert all(checked[k] > 0 for k in ("A", "AAAA", "MX", "cname-hop", "no-www")), checked


def test_absent_site_is_nxdomain(lab: dict[str, Any], world: dict[str, Any]) -> None:
    absent = [d for d in world["listed"] if d not in world["ns"]]
    assert absent
    res = lab_resolver(lab)
    for domain in absent:
        with pytest.raises(dns.resolver.NXDOMAIN):
            res.resolve(domain, "A")


def test_missing_binary_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr(servers, "SBIN_DIRS", ())
    with pytest.raises(LabError, match=r"^knotd not found: apt-get install knot$"):
        servers.find_binary("knotd")
