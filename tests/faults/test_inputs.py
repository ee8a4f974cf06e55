"""Input faults: hostile list lines, duplicates, unusable list files, config mistakes — through
the real command line; each ends in per-line rejections with counts or one clear error line."""

from __future__ import annotations

from scripts.faults.harness import Context
from scripts.faults.scenarios import input_lists
from tests.faults.conftest import by_fault, failing


def test_hostile_lines_are_kept_or_rejected_one_by_one(ctx: Context) -> None:
    rows = input_lists.hostile_list(ctx)
    assert not failing(rows), failing(rows)
    got = by_fault(rows)
    for kind in ("garbage", "wrong columns", "blank", "idn", "long label", "trailing dot", "ip literal",
                 "wildcard", "url", "markup sql"):
        assert f"list: {kind}" in got
    assert "IP address literal x4" in got["list: ip literal"].outcome
    assert "rejected 20/20" in got["list: every line accounted for"].outcome


def test_duplicate_lines_are_counted_not_measured_twice(ctx: Context) -> None:
    (row,) = input_lists.million_duplicates(ctx)
    assert row.passed, row
    assert row.injected == 50_000 and "100 entries, 49,900 duplicates counted, 100 measured" in row.outcome


def test_unusable_list_files_end_in_one_line(ctx: Context) -> None:
    rows = input_lists.unusable_lists(ctx, {"binary file", "truncated gzip", "one 8 MB line", "blank lines only"})
    assert not failing(rows), failing(rows)
    # an 8 MB line without a newline used to hang the loader (quadratic scheme regex)
    assert "no valid domains" in by_fault(rows)["list file: one 8 MB line"].outcome


def test_config_mistakes_end_in_one_line(ctx: Context) -> None:
    rows = input_lists.config_errors(ctx, {"toml syntax error", "binary garbage", "negative timeout",
                                           "resolver off loopback", "config is a folder"})
    assert not failing(rows), failing(rows)
    # values the crawl command bounds are bounded in a config file too
    assert "timeout must be at least 0.05" in by_fault(rows)["config: negative timeout"].outcome
