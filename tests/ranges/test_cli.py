"""``chokepoints data ranges`` through the real command line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli import run
from tests.ranges.helpers import aws_json, cidr_list


def one_line_error(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_load_then_list(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    aws_json(tmp_path / "feeds" / "ip-ranges_2026-05-01.json", [("3.5.140.0/22", "ap-northeast-2", "S3")])
    cidr_list(tmp_path / "feeds" / "2026-04-30" / "amazon" / "ipv4.txt", ["3.5.0.0/16"])
    r = run("data", "ranges", tmp_path / "feeds", "--db", db)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["provider", "feed", "published", "prefixes", "status"]
    assert sorted(ln.split() for ln in lines[1:3]) == [["aws", "aws-ip-ranges", "2026-05-01", "1", "new"],
                                                        ["aws", "cidr:amazon", "2026-04-30", "1", "new"]]
    assert lines[-1] == "2 new"
    r = run("data", "ranges", tmp_path / "feeds" / "ip-ranges_2026-05-01.json", "--db", db)
    assert r.returncode == 0 and r.stdout.splitlines()[1].split()[-2:] == ["already", "loaded"]
    r = run("data", "ranges", "--list", "--db", db)
    assert r.returncode == 0, r.stderr
    assert "aws-ip-ranges" in r.stdout and "cidr:amazon" in r.stdout and "2 versions stored" in r.stdout


def test_one_line_errors(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    assert "range file not found" in one_line_error(run("data", "ranges", tmp_path / "nope.json", "--db", db))
    assert "--fetch, or --list" in one_line_error(run("data", "ranges", "--db", db))
    undated = cidr_list(tmp_path / "ips-v4", ["104.16.0.0/13"])
    assert "--published" in one_line_error(run("data", "ranges", undated, "--db", db))
    assert "YYYY-MM-DD" in one_line_error(run("data", "ranges", undated, "--published", "May 1", "--db", db))
    # The suite runs with CHOKEPOINTS_LOOPBACK_ONLY=1: no download, one clear line.
    assert "CHOKEPOINTS_LOOPBACK_ONLY" in one_line_error(run("data", "ranges", "--fetch", "--db", db))


def test_help() -> None:
    r = run("data", "ranges", "--help")
    assert r.returncode == 0 and "--fetch" in r.stdout and "--list" in r.stdout
