"""``chokepoints run --config``: scheduled runs, their reports, the lock, config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chokepoints import db
from chokepoints.lock import hold
from tests.cli import run
from tests.ops.conftest import SITES, Runs, write_config
from tests.test_cli import one_line_error


def test_two_runs_make_two_snapshots_and_their_reports(runs: Runs) -> None:
    con = db.connect(runs.db, read_only=True)
    try:
        rows = con.execute("select snapshot_id, status, sites, snapshot_uid from snapshots order by 1").fetchall()
    finally:
        con.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [(1, "complete", SITES), (2, "complete", SITES)]
    assert rows[0][3] != rows[1][3]
    reports = sorted(p.name for p in (runs.config.parent / "reports").iterdir())
    assert len(reports) == 6 and all("-s1." in n or "-s2." in n for n in reports)
    data = json.loads(next((runs.config.parent / "reports").glob("*-s2.json")).read_text())
    assert data["snapshot"]["snapshot_id"] == 2
    # Not a terminal: log lines, no progress bar.
    assert "progress:" in runs.results[0].stderr and "━" not in runs.results[0].stderr
    assert "run: snapshot 2 complete" in runs.results[1].stderr


def test_trend_between_the_two_runs(runs: Runs) -> None:
    r = run("trend", "--layer", "hosting", "--metric", "hhi", "--format", "json", "--db", runs.db)
    assert r.returncode == 0, r.stderr
    assert "2" in r.stdout and len(json.loads(r.stdout)) >= 1


def test_a_second_run_is_refused_by_the_lock(runs: Runs, tmp_path: Path) -> None:
    with hold(runs.db) as lock:
        line = one_line_error(run("run", "--config", runs.config))
        assert f"another chokepoints run holds {lock}" in line
        crawl = one_line_error(run("crawl", "--lab", "--lab-dir", tmp_path, "--db", runs.db, "--no-summary",
                                   "--resolver", "127.0.0.1:9"))
        assert "another chokepoints run holds" in crawl or "no running lab" in crawl


def test_crawl_takes_the_lock(runs: Runs, ops_lab: dict[str, str], tmp_path: Path) -> None:
    path = runs.copy_db(tmp_path / "c.duckdb")
    with hold(path):
        line = one_line_error(run("crawl", "--lab", "--lab-dir", ops_lab["state_dir"], "--db", path,
                                  "--no-summary"))
    assert "another chokepoints run holds" in line


@pytest.mark.parametrize(("text", "expected"), [
    (None, "config file not found"),
    ("[crawl\n", "not valid TOML"),
    ("[crawl]\nfoo = 1\n", "unknown key [crawl] foo"),
    ("[crawl]\ntop = 'ten'\n", "[crawl] top must be int"),
    ("[nope]\n", "unknown table [nope]"),
    ("[report]\nformats = ['pdf']\n", "unknown format 'pdf'"),
])
def test_config_errors_are_one_line(tmp_path: Path, text: str | None, expected: str) -> None:
    config = tmp_path / "crawl.toml"
    if text is not None:
        config.write_text(text)
    assert expected in one_line_error(run("run", "--config", config))


def test_a_failed_run_is_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "crawl.toml", tmp_path / "x.duckdb", tmp_path / "no-lab")
    assert "no running lab" in one_line_error(run("run", "--config", config))


def test_the_example_config_is_valid() -> None:
    from chokepoints.config import load_run_config

    cfg = load_run_config(Path(__file__).resolve().parents[2] / "scripts" / "schedule" / "crawl.toml")
    assert cfg.crawl["top"] == 10000 and cfg.report_formats == ("json", "md", "html")
