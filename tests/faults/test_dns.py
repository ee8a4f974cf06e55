"""DNS faults through the fault proxy in front of the lab's resolver: every misbehaviour mixed in
one crawl, each faulted question stored with the status a correct engine stores."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from crawler.dns import DnsEngine, Status
from scripts.faults.dns_proxy import FaultKind, FaultPlan, FaultProxy
from scripts.faults.harness import Context
from scripts.faults.scenarios import dns_faults
from tests.faults.conftest import by_fault, failing


def test_every_dns_fault_is_recorded_with_its_status(ctx: Context) -> None:
    rows = dns_faults.dns_faults(ctx)
    assert not failing(rows), failing(rows)
    got = by_fault(rows)
    assert {f"dns: {k}" for k in FaultKind if k is not FaultKind.HOSTILE} <= set(got)
    assert all(got[f"dns: {k}"].injected > 0 for k in ("drop", "lame", "spoof_id", "truncate"))
    assert "spoofed values stored: 0" in got["dns: spoof_id"].outcome
    assert "(LAME)" in got["dns: lame"].outcome  # a referral is not NODATA
    assert got["dns: every site and question accounted for"].rows_lost == 0


def test_a_burst_of_truncated_answers_is_asked_again_over_tcp(ctx: Context) -> None:
    """Hundreds of TC answers at once: every one answered over TCP, none stored TRUNCATED (the
    engine bounds its TCP fallbacks in flight instead of opening them all at once)."""
    host, port = ctx.resolver()
    names = [line.split(",")[1] for line in Path(ctx.lab()["list"]).read_text().splitlines()[1:]]

    async def main() -> Counter[tuple[Status, str]]:
        proxy = FaultProxy((host, port), FaultPlan(rate=1.0, kinds=(FaultKind.TRUNCATE,)))
        address = await proxy.start()
        try:
            async with DnsEngine([address], timeout=0.3, retries=0) as engine:
                results = await asyncio.gather(*(engine.query(n, t) for n in names for t in ("A", "AAAA", "MX", "NS")))
        finally:
            await proxy.stop()
        return Counter((r.status, r.transport) for r in results)

    found = asyncio.run(main())
    assert sum(found.values()) == len(names) * 4
    assert not [k for k in found if k[0] is Status.TRUNCATED or k[1] != "tcp"], found
