"""RDAP faults against the lab's RDAP server on a copy of a real crawl's database: statuses,
backoff, and a cache that a healthy server later fills with the right networks (the same through
``crawl --rdap-url`` is the suite's ``rdap failing during a crawl``)."""

from __future__ import annotations

import dataclasses

import pytest

from scripts.faults.harness import Context
from scripts.faults.scenarios import rdap_faults

FAST = {c.name: c for c in rdap_faults.CASES}
CASES = [
    dataclasses.replace(FAST["429 with Retry-After, then answers"],
                        fault=dataclasses.replace(FAST["429 with Retry-After, then answers"].fault, times=1),
                        min_seconds=0.9),
    FAST["429 with Retry-After over the bound"],
    FAST["503"],
    FAST["malformed JSON"],
    dataclasses.replace(FAST["slow, over the client's timeout"], limit=1),
    FAST["redirect to the same server"],
    FAST["redirect to another server"],
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rdap_fault(ctx: Context, case: rdap_faults.Case) -> None:
    folder = ctx.path("rdap-test")
    row = rdap_faults.run_case(case, ctx.base_db(), folder, rdap_faults.lab_networks(ctx.lab()))
    assert row.passed, row
    assert "0 wrong networks, 0 stale failures" in row.outcome
