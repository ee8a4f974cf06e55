"""A small lab and a fault context shared by the fault tests (the suite's scenarios, small)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scripts.faults.harness import Context, Row

SITES = 120


@pytest.fixture(scope="session")
def fault_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from scripts.lab.testing import running_lab

    with running_lab(tmp_path_factory.mktemp("faultlab"), sites=SITES, seed=5) as state:
        yield state


@pytest.fixture(scope="session")
def ctx(fault_lab: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Context:
    """The suite's context at test scale: the lab above, 20% of DNS questions faulted,
    5% of the big inputs (50,000 duplicate lines)."""
    return Context(tmp_path_factory.mktemp("faults"), sites=SITES, seed=5, lab_state=fault_lab,
                   timeout=1.0, retries=1, dns_rate=0.2, scale=0.05)


def failing(rows: list[Row]) -> list[Row]:
    """The rows that lost facts, crashed or did not end as expected (for assertion messages)."""
    return [r for r in rows if not r.passed]


def by_fault(rows: list[Row]) -> dict[str, Row]:
    return {r.fault: r for r in rows}
