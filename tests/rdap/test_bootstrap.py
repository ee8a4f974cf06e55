"""The bundled IANA bootstrap, and per-RIR routing to five loopback servers."""

from __future__ import annotations

import ipaddress

import pytest

from crawler.rdap import DEFAULT_SERVERS, RdapClient, RdapConfig, RdapStatus, Rir, bundled
from crawler.rdap.bootstrap import from_mapping
from tests.rdap.conftest import StartServer

ADDRESSES = {
    "8.8.8.8": Rir.ARIN,
    "3.5.140.2": Rir.ARIN,
    "2600:1f18::1": Rir.ARIN,
    "193.0.6.139": Rir.RIPE,
    "2a00:1450:4001::1": Rir.RIPE,
    "1.1.1.1": Rir.APNIC,
    "2400:cb00:2048::1": Rir.APNIC,
    "200.57.141.161": Rir.LACNIC,
    "2800:3f0:4001::1": Rir.LACNIC,
    "196.216.2.1": Rir.AFRINIC,
    "2c0f:fb50::1": Rir.AFRINIC,
}


@pytest.mark.parametrize(("address", "rir"), sorted(ADDRESSES.items()))
def test_bundled_bootstrap_names_the_rir(address: str, rir: Rir) -> None:
    assert bundled().rir_for(address) == rir


@pytest.mark.parametrize(
    "address", ["10.1.2.3", "127.0.0.1", "0.1.2.3", "224.0.0.1", "255.255.255.255", "2001::1", "fc00::1", "::1"]
)
def test_reserved_space_has_no_rir(address: str) -> None:
    assert bundled().rir_for(address) is None


def test_bundled_bootstrap_covers_every_unicast_slash8() -> None:
    boot = bundled()
    assert boot.as_of
    unnamed = [o for o in range(224) if boot.rir_for(f"{o}.1.2.3") is None]
    assert unnamed == [0, 10, 127]


def test_overlapping_bootstrap_is_refused() -> None:
    with pytest.raises(ValueError, match="overlapping"):
        from_mapping({"ipv4": {"arin": ["8.0.0.0/8"], "ripe": ["8.8.0.0/16"]}, "ipv6": {}})


def test_each_address_goes_to_its_rirs_server(rdap_server: StartServer) -> None:
    servers = {}
    for rir in Rir:
        networks = [
            (
                str(ipaddress.ip_network(f"{a}/{24 if ':' not in a else 48}", strict=False)),
                f"NET-{i}",
                "N",
                f"{rir} org",
            )
            for i, (a, r) in enumerate(ADDRESSES.items())
            if r == rir
        ]
        servers[rir] = rdap_server(networks)
    config = RdapConfig(
        servers={rir: url for rir, (_, url) in servers.items()},
        rates=dict.fromkeys(Rir, 1000.0),
        timeout=5.0,
    )
    client = RdapClient(config)
    for address, rir in ADDRESSES.items():
        result = client.lookup(address)
        assert result.status == RdapStatus.OK, result
        assert result.rir == rir
        assert result.network is not None and result.network.org == f"{rir} org"
    for rir, (server, _) in servers.items():
        expected = sorted(f"/ip/{ipaddress.ip_address(a)}" for a, r in ADDRESSES.items() if r == rir)
        assert sorted(server.counts) == expected


def test_default_servers_are_the_five_rirs() -> None:
    assert set(DEFAULT_SERVERS) == set(Rir)
    assert all(url.startswith("https://") and url.endswith("/") for url in DEFAULT_SERVERS.values())
