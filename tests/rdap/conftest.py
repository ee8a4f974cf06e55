"""Fixtures for the RDAP tests: lab RDAP servers on loopback, fast client configs, a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from crawler.rdap import RdapClient, RdapConfig
from scripts.lab.rdap_server import Fault, NetworkSpec, RdapLabServer, start_rdap_server, stop

StartServer = Callable[..., tuple[RdapLabServer, str]]


class FakeTime:
    """A monotonic clock that only moves when someone sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def rdap_server() -> Iterator[StartServer]:
    """Start lab RDAP servers (``start(networks, faults=None)``); all stopped after the test."""
    started: list[RdapLabServer] = []

    def start(networks: list[NetworkSpec], faults: Mapping[str, Fault] | None = None) -> tuple[RdapLabServer, str]:
        server, url = start_rdap_server(networks, faults)
        started.append(server)
        return server, url

    yield start
    for server in started:
        stop(server)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def fast_client(base_url: str, *, fake: FakeTime | None = None, **config: Any) -> RdapClient:
    """A client aimed at one lab server, fast enough for tests."""
    settings: dict[str, Any] = {"base_rate": 1000.0, "burst": 100.0, "timeout": 5.0, **config}
    cfg = RdapConfig(base_url=base_url, **settings)
    if fake is None:
        return RdapClient(cfg)
    return RdapClient(cfg, clock=fake.clock, sleep=fake.sleep)
