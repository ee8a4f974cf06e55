"""The benchmark harness (scripts/bench.py) end to end on a tiny lab world: one table with every
figure, a number in each and, where the figure has one, a baseline measured in the same run.

Needs ``knotd``, ``unbound``, ``dnsperf`` and the shared data (skipped without them).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from scripts import bench, bench_dns
from scripts.lab import api
from scripts.lab.world import default_data_dir
from tests.lab.test_live import _installed

pytestmark = [
    pytest.mark.skipif(not (default_data_dir() / "provider_ranges").is_dir(), reason="reference data not found"),
    pytest.mark.skipif(not (_installed("knotd") and _installed("unbound")), reason="knotd/unbound not installed"),
    pytest.mark.skipif(not shutil.which(bench_dns.DNSPERF), reason="dnsperf not installed"),
]

#: figure (its start) -> the baseline's name, or None where the figure has none (a ratio with each)
FIGURES = {
    "lab world built and started": None,
    "DNS engine alone, q/s": "dnspython loop",
    "DNS engine alone against dnsperf": "dnsperf",
    "crawl DNS queries/s": "dnsperf",
    "crawl sites/s": None,
    "crawl wall time": None,
    "crawl queries per site": None,
    "crawl CPU s": None,
    "crawl RSS mean/max MB per quarter": None,
    "crawl RSS mean/max MB after the crawl step": None,
    "re-attribution": None,
    "report --format json": None,
    "published-range matching, addresses/s": "pyasn loop",
    "fetch pages/s, our handler (addresses given)": "plain Scrapy",
    "fetch CPU ms/page, our handler (addresses given)": "plain Scrapy",
    "fetch pages/s, our handler (hosts looked up in lab DNS)": "plain Scrapy",
    "fetch CPU ms/page, our handler (hosts looked up in lab DNS)": "plain Scrapy",
}
#: rows beside a baseline without a ratio (a share, seconds and counts)
NO_RATIO = {"DNS engine answered share": "dnspython loop", "published-range matching, s": "pyasn"}
NUMBER = re.compile(r"\d")


def test_bench_prints_one_table_with_every_figure_and_its_baseline(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    rows_file = tmp_path / "rows.json"
    code = bench.main(["--sites", "300", "--http-sites", "50", "--dnsperf-seconds", "1", "--queries", "5000",
                       "--addresses", "20000", "--workdir", str(tmp_path / "run"), "--json", str(rows_file)])
    assert code == 0
    assert api.status(tmp_path / "run" / "lab") is None  # the lab is down
    printed = capsys.readouterr().out
    assert printed.count("baseline (same run)") == 1  # one table
    rows = json.loads(rows_file.read_text())
    rss_only = [r["figure"] for r in rows if not r["value"]]
    assert rss_only == ["dnsperf on the crawl's queries, peak RSS", "fetch peak RSS, plain Scrapy"]
    assert all(re.fullmatch(r"[\d,]+ MB", r["peak_rss"]) for r in rows if not r["value"])
    for start, baseline in {**FIGURES, **NO_RATIO}.items():
        found = [r for r in rows if r["figure"].startswith(start)]
        assert len(found) == 1, start
        row = found[0]
        assert row["figure"] in printed, row
        # RSS is sampled every half second against progress lines logged every second: a tiny
        # crawl may write all its sites between two of them
        assert NUMBER.search(row["value"]) or (start.startswith("crawl RSS") and set(row["value"]) <= set("- ")), row
        if baseline is None:
            assert row["baseline"] == row["ratio"] == "", row
            continue
        assert NUMBER.search(row["baseline"]) and row["baseline"].endswith(baseline), row
        if start in FIGURES:
            assert float(row["ratio"]) > 0, row
    for start in ("crawl DNS queries/s", "DNS engine alone, q/s", "published-range matching, addresses/s",
                  "fetch pages/s, our handler (addresses given)", "re-attribution"):
        row = next(r for r in rows if r["figure"].startswith(start))
        assert re.fullmatch(r"[\d,]+ MB", row["peak_rss"]), row
