"""networks_from_world: one lab RDAP network per prefix of a world's pyasn database."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb

from crawler.rdap import name_networks, rdap_rows
from scripts.lab.rdap_server import Shape, networks_from_world
from tests.rdap.conftest import StartServer, fast_client
from tests.rdap.test_naming import _snapshot

IPASN = """; IP-ASN32-DAT file
; Original file : chokepoints lab world, seed 1, date 2026-04-27
; Converted on  : (generated)
; CIDRs         : 3
;
23.92.16.0/20\t64500
185.10.8.0/22\t64501
2a01:4f8::/32\t64502
"""


def _world(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "ipasn.dat").write_text(IPASN, encoding="utf-8")
    names = tmp_path / "asns.csv.gz"
    with gzip.open(names, "wt", encoding="utf-8") as fh:
        fh.write('asn,name,class,cc\nAS64500,Example Hosting,Unknown,US\nAS64502,"Hetz, Example",Unknown,DE\n')
    return tmp_path, names


def test_one_network_per_prefix_named_after_its_as(tmp_path: Path) -> None:
    state, names = _world(tmp_path)
    nets = {n.cidr: n for n in networks_from_world(state, as_names=names)}
    assert set(nets) == {"23.92.16.0/20", "185.10.8.0/22", "2a01:4f8::/32"}
    assert nets["23.92.16.0/20"].org == "AS64500 Example Hosting" and nets["23.92.16.0/20"].shape == Shape.ARIN
    assert nets["185.10.8.0/22"].org == "AS64501" and nets["185.10.8.0/22"].shape == Shape.RIPE
    assert nets["2a01:4f8::/32"].org == "AS64502 Hetz, Example" and nets["2a01:4f8::/32"].country == "DE"
    assert len({n.handle for n in nets.values()}) == 3


def test_a_world_served_and_named(tmp_path: Path, con: duckdb.DuckDBPyConnection, rdap_server: StartServer) -> None:
    state, names = _world(tmp_path)
    _, url = rdap_server(networks_from_world(state, as_names=names))
    sid = _snapshot(
        con, [("23.92.17.5", 64500), ("23.92.30.1", 64500), ("185.10.9.9", 64501), ("2a01:4f8:1::2", 64502)]
    )
    assert name_networks(con, sid, fast_client(url)) == 3
    orgs = {r.ip: r.org for r in rdap_rows(con, sid)}
    assert orgs == {
        "23.92.17.5": "AS64500 Example Hosting",
        "23.92.30.1": "AS64500 Example Hosting",
        "185.10.9.9": "AS64501",
        "2a01:4f8:1::2": "AS64502 Hetz, Example",
    }
