"""Crash faults: SIGKILL mid-DNS then again during the resume, and SIGKILL during the
attribution after the crawl; each followed by ``crawl --resume``: one outcome per site, nothing
stored twice, the dependencies of an uninterrupted crawl (the suite kills at five points on a
bigger lab)."""

from __future__ import annotations

from scripts.faults.harness import Context
from scripts.faults.scenarios import crashes
from tests.faults.conftest import by_fault, failing


def test_sigkill_then_resume(ctx: Context) -> None:
    rows = crashes.sigkill_and_resume(ctx, {"attribution after the crawl", "a --resume in flight"})
    assert len(rows) == 2
    assert not failing(rows), failing(rows)
    got = by_fault(rows)
    assert "killed in attribution" in got["crash: SIGKILL, attribution after the crawl"].outcome
    resumed = got["crash: SIGKILL, a --resume in flight"]
    assert resumed.injected == 2 and "killed in DNS" in resumed.outcome
    assert "then the resume killed in" in resumed.outcome
    for row in rows:
        assert "rows stored twice: none" in row.outcome and "(0 missing, 0 extra)" in row.outcome
