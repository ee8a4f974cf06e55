"""The HTTP layer end to end on the lab: DNS and home pages in one Scrapy crawl, every socket
on loopback, the blocked redirects never contacted, cdn/ca/third_party scored against the
lab's HTTP truth, and a crawl killed with SIGKILL and resumed ending with exactly one outcome
per site — the same dependencies as an uninterrupted crawl.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chokepoints import db
from scripts.score_lab import score, score_resources
from tests.cli import run
from tests.netaudit import is_loopback

SITES = 400


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[dict[str, Any]]:
    from scripts.lab.testing import running_lab

    radar = shared_data / "toplists" / "cloudflare_radar" / "radar_top-1000_2026-04-27.csv.gz"
    with running_lab(tmp_path_factory.mktemp("weblab"), sites=SITES, seed=11, list_path=radar) as state:
        yield state


@pytest.fixture(scope="module")
def audited(lab: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The lab crawled with DNS and HTTP under a socket audit hook: (database, audit log)."""
    work = tmp_path_factory.mktemp("audited")
    path, log = work / "lab.duckdb", work / "sockets.log"
    r = subprocess.run(
        [sys.executable, "-m", "tests.netaudit", str(log), "crawl", "--lab", "--lab-dir", lab["state_dir"],
         "--db", str(path), "--no-progress", "--no-summary", "--timeout", "1"],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    return path, log


def test_a_lab_crawl_opens_no_socket_off_loopback(audited: tuple[Path, Path]) -> None:
    _, log = audited
    lines = log.read_text().splitlines()
    assert any(line.startswith("socket.connect") for line in lines)  # the hook saw the crawl
    off = [line for line in lines if not is_loopback(line.split("\t", 1)[1])]
    assert off == []


def test_every_site_has_one_dns_and_one_http_outcome(audited: tuple[Path, Path]) -> None:
    con = db.connect(audited[0], read_only=True)
    try:
        (entries, dns, pages, distinct) = con.execute(
            "select (select count(*) from list_entries), (select count(*) from site_outcomes), "
            "(select count(*) from http_outcomes), (select count(distinct domain) from http_outcomes)").fetchone()
        assert entries == dns == pages == distinct == SITES
        statuses = dict(con.execute("select status, count(*) from http_outcomes group by 1").fetchall())
        assert statuses["OK"] > SITES * 0.9
        assert statuses["NO_ADDRESS"] >= 1 and statuses["BLOCKED"] >= 3 and statuses["ROBOTS_DISALLOWED"] >= 1
        assert statuses["TOO_MANY_REDIRECTS"] >= 1
        # every hop that connected recorded the address DNS gave and the lab endpoint it used
        (public,) = con.execute(
            "select count(*) from http_hops where connected like '127.0.0.1:%' and address like '127.%'").fetchone()
        assert public == 0
        kinds = dict(con.execute("select status, count(*) from http_hops group by 1").fetchall())
        assert kinds.get("TLS_INVALID", 0) >= 1 and kinds.get("TLS_ERROR", 0) >= 1
        (invalid_kept,) = con.execute(
            "select count(*) from tls_certificates where not verified and verify_error is not null").fetchone()
        assert invalid_kept >= 1  # recorded, not trusted
        snap = db.fetch_dicts(con, "select status, settings from snapshots")[0]
        assert snap["status"] == "complete" and '"http": true' in snap["settings"]
    finally:
        con.close()


def test_blocked_redirects_are_recorded_and_never_contacted(audited: tuple[Path, Path], lab: dict[str, Any]) -> None:
    con = db.connect(audited[0], read_only=True)
    try:
        blocked = con.execute(
            "select host, address, connected, error from http_hops where status = 'BLOCKED'").fetchall()
    finally:
        con.close()
    assert {b[1] for b in blocked} >= {"169.254.169.254", "127.0.0.1"}
    assert any(b[1].startswith("10.") for b in blocked)
    assert all(b[2] is None for b in blocked)  # no connection for any of them
    contacted = {line.split("\t")[1] for line in Path(lab["http_log"]).read_text().splitlines() if line}
    for host, *_ in blocked:
        assert host not in contacted


def test_http_layers_agree_with_the_lab_truth(audited: tuple[Path, Path], lab: dict[str, Any]) -> None:
    con = db.connect(audited[0], read_only=True)
    try:
        result = score(con, 1, Path(lab["truth"]), Path(lab["truth_http"]))
        resources = score_resources(con, 1, Path(lab["resources"]))
    finally:
        con.close()
    for layer in ("cdn", "ca", "third_party", "hosting", "dns", "email"):
        assert result[layer]["precision"] >= 0.99 and result[layer]["recall"] >= 0.99, (layer, result[layer])
    assert resources is not None and resources["precision"] == resources["recall"] == 1.0, resources


def test_no_http_crawls_dns_only(lab: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "dns.duckdb"
    r = run("crawl", "--lab", "--lab-dir", lab["state_dir"], "--db", path, "--no-http", "--top", "40",
            "--no-progress", "--no-summary", "--timeout", "1")
    assert r.returncode == 0, r.stderr
    con = db.connect(path, read_only=True)
    try:
        assert con.execute("select count(*) from site_outcomes").fetchone() == (40,)
        assert con.execute("select count(*) from http_outcomes").fetchone() == (0,)
        layers = {r[0] for r in con.execute("select distinct layer from dependencies").fetchall()}
        assert layers <= {"hosting", "dns", "cdn", "email"}
    finally:
        con.close()


def _stop_midway(cmd: list[str], rng: random.Random, sig: int) -> str:
    """Start ``cmd``; send it ``sig`` at a random point after it has measured some sites."""
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert proc.stderr is not None
    seen = []
    target = rng.uniform(0.15, 0.6)
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("progress:"):
            done, total = line.split()[1].split("/")
            if int(done) >= target * int(total):
                time.sleep(rng.uniform(0, 0.5))
                break
    proc.send_signal(sig)
    seen.append(proc.communicate(timeout=60)[1] or "")
    return "".join(seen)


def _resume_and_check(base: list[str], path: Path, whole_db: Path) -> None:
    """Resume the crawl; every site then has one DNS and one page outcome, no row is doubled,
    and the dependencies equal those of an uninterrupted crawl of the same lab."""
    r = run(*base[3:], "--resume", "--no-progress")
    assert r.returncode == 0, r.stderr
    con = db.connect(path, read_only=True)
    try:
        assert con.execute("select status from snapshots").fetchall() == [("complete",)]
        for table in ("site_outcomes", "http_outcomes"):
            (n, distinct) = con.execute(f"select count(*), count(distinct domain) from {table}").fetchone()
            assert n == distinct == SITES, table
        for table, key in (("dns_answers", "domain, qname, qtype, position"), ("http_hops", "domain, hop"),
                           ("host_answers", "host, qname, qtype, position"),
                           ("page_resources", "domain, host, tag"), ("tls_certificates", "domain, hop")):
            (dupes,) = con.execute(f"select count(*) from (select {key} from {table} group by all "
                                   "having count(*) > 1)").fetchone()
            assert dupes == 0, table
        resumed = set(con.execute("select domain, layer, provider from dependencies").fetchall())
    finally:
        con.close()
    con = db.connect(whole_db, read_only=True)
    try:
        whole = set(con.execute("select domain, layer, provider from dependencies").fetchall())
    finally:
        con.close()
    assert resumed == whole


def _crawl_command(lab: dict[str, Any], path: Path) -> list[str]:
    return [sys.executable, "-m", "chokepoints", "crawl", "--lab", "--lab-dir", lab["state_dir"], "--db",
            str(path), "--no-summary", "--timeout", "1", "--concurrency", "10", "--http-concurrency", "8",
            "--write-batch", "20"]


def test_sigkill_then_resume_loses_and_doubles_nothing(
    audited: tuple[Path, Path], lab: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "killed.duckdb"
    base = _crawl_command(lab, path)
    out = _stop_midway([*base, "--log-interval", "0.2"], random.Random(5), signal.SIGKILL)
    con = db.connect(path, read_only=True)  # the killed crawl's database opens cleanly
    try:
        (status,) = con.execute("select status from snapshots").fetchone()
        (dns_before,) = con.execute("select count(*) from site_outcomes").fetchone()
    finally:
        con.close()
    assert status == "running", out
    assert 0 < dns_before < SITES, out
    _resume_and_check(base, path, audited[0])


def test_ctrl_c_keeps_scrapys_job_and_resume_uses_it(
    audited: tuple[Path, Path], lab: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "stopped.duckdb"
    base = _crawl_command(lab, path)
    out = _stop_midway([*base, "--log-interval", "0.2"], random.Random(8), signal.SIGINT)
    con = db.connect(path, read_only=True)
    try:
        (status, error) = con.execute("select status, error from snapshots").fetchone()
    finally:
        con.close()
    assert status == "interrupted" and "ended early" in error, out
    con = db.connect(path, read_only=True)
    try:
        (dns, pages) = con.execute("select (select count(*) from site_outcomes), "
                                   "(select count(*) from http_outcomes)").fetchone()
    finally:
        con.close()
    assert 0 < pages < SITES and pages <= dns, out
    job = path.with_name(path.name + ".jobs") / "1"
    assert (job / "requests.queue").is_dir(), out  # Scrapy's queue, closed cleanly
    _resume_and_check(base, path, audited[0])
    assert not job.exists()  # removed once the snapshot is complete


def test_the_http_example_queries_run_on_a_lab_crawl(audited: tuple[Path, Path]) -> None:
    import re

    from chokepoints.cli.query import run_query

    page = (Path(__file__).resolve().parents[1] / "docs" / "queries-http.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sql\n(.*?)```", page, re.S)
    assert len(queries) >= 6
    for sql in queries:
        columns, rows = run_query(audited[0], sql)
        assert columns and rows, sql
