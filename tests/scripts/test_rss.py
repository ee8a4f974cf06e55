"""Memory sampling against progress (scripts/rss.py) on a real child process."""

from __future__ import annotations

import sys
from pathlib import Path

from scripts.rss import Sampled, by_progress, describe, last_progress, run_sampled


def test_last_progress_reads_the_newest_line(tmp_path: Path) -> None:
    log = tmp_path / "crawl.log"
    assert last_progress(log) is None
    log.write_text("starting\nprogress: 10/40 sites (25%), 5 sites/s\nnoise\n"
                   "progress: 30/40 sites (75%), 5 sites/s\n")
    assert last_progress(log) == (30, 40)
    assert last_progress(log, tail=16) is None  # the line is cut: not a match


def test_by_progress_splits_quarters_and_the_stages_after() -> None:
    run = Sampled(0, 1.0, 0, 0.0, [(0.1, 1024, -1), (0.2, 1024, 0), (0.3, 2048, 9), (0.4, 3072, 10),
                                   (0.5, 4096, 35), (0.6, 10240, 40)], total=40)
    quarters, after = by_progress(run)
    assert quarters == [(1.5, 2.0), (3.0, 3.0), None, (4.0, 4.0)]
    assert after == (10.0, 10.0)
    assert "2/2, 3/3, -, 4/4" in describe(run) and "10/10" in describe(run)


def test_run_sampled_pairs_rss_with_the_child_s_progress(tmp_path: Path) -> None:
    child = ("import sys, time\n"
             "blob = []\n"
             "for i in range(1, 5):\n"
             "    blob.append(bytearray(8 << 20))\n"
             "    print(f'progress: {i}/4 sites', file=sys.stderr, flush=True)\n"
             "    time.sleep(0.3)\n")
    run = run_sampled([sys.executable, "-c", child], tmp_path / "child.log", every=0.05)
    assert run.code == 0 and run.total == 4
    assert run.peak_kb > 32 << 10
    seen = [d for _, _, d in run.samples]
    assert seen == sorted(seen) and {1, 2, 3} <= set(seen)
    quarters, after = by_progress(run)
    assert quarters[0] is None  # done=0 never printed; 1/4 is the second quarter
    assert all(q is not None for q in quarters[1:]) and after is not None
    assert quarters[1] is not None and after[1] > quarters[1][1] + 16  # the child grew by 8 MB a step
