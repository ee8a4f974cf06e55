"""Crashes and concurrency: a full disk while writing, readers and a second crawl while a crawl
writes; hostile text in every output and paths that try to leave their folder."""

from __future__ import annotations

import pytest

from scripts.faults.harness import Context, Row
from scripts.faults.scenarios import concurrency, disk, output
from tests.faults.conftest import by_fault, failing


@pytest.fixture(scope="module")
def disk_rows(ctx: Context) -> dict[str, Row]:
    blocked = disk.mount_blocked()
    if blocked:
        pytest.skip(f"the disk-full fault needs a small tmpfs: {blocked}")
    return by_fault(disk.disk_full_cases(ctx, mid_crawl=False))


def test_disk_full_at_the_final_write(disk_rows: dict[str, Row]) -> None:
    full = disk_rows["disk full at the final write"]
    assert full.outcome.startswith("exit 1: ") and "No space left on device" in full.outcome
    assert full.crashes == 0
    assert "database opens read-only" in full.outcome and "report of the previous snapshot exit 0" in full.outcome
    assert "new snapshot: failed" in full.outcome and full.rows_lost == 0
    again = disk_rows["disk full: space freed, crawl again"]
    assert again.passed, again


def test_disk_full_leaves_no_traceback(disk_rows: dict[str, Row]) -> None:
    assert disk_rows["disk full at the final write"].passed


def test_readers_and_a_second_crawl_while_a_crawl_writes(ctx: Context) -> None:
    rows = concurrency.concurrent_runs(ctx, {"second crawl, same database", "query, same database",
                                             "report on a copy", "report on an export"})
    assert not failing(rows), failing(rows)
    assert "another chokepoints run holds" in by_fault(rows)["concurrency: second crawl, same database"].outcome


def test_hostile_text_stays_inert_in_every_output(ctx: Context) -> None:
    rows = output.hostile_outputs(ctx, {
        "report table", "report json", "report md", "report csv", "report html", "query csv", "trend md",
        "manifest path with ../", "data file a symlink outside", "report --out in a missing folder"})
    assert not failing(rows), failing(rows)
    got = by_fault(rows)
    assert "raw: none" in got["output: report html"].outcome
    assert "escapes the export folder" in got["paths: export manifest path with ../"].outcome
    assert "cannot write" in got["paths: report --out in a missing folder"].outcome
