"""A 200-site lab crawled twice by ``chokepoints run --config``: the database the ops tests share."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli import run

SITES = 200


@dataclass(frozen=True)
class Runs:
    """Two scheduled runs on one database: the config, the database and the two CLI results."""

    config: Path
    db: Path
    results: list[subprocess.CompletedProcess[str]]

    def copy_db(self, dest: Path) -> Path:
        """A private copy of the database (tests that delete or write use one)."""
        shutil.copy(self.db, dest)
        return dest


def write_config(path: Path, db: Path, lab_dir: Path, **crawl: Any) -> Path:
    extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in crawl.items())
    path.write_text(
        f'db = "{db}"\n\n[crawl]\nlab = true\nlab_dir = "{lab_dir}"\ntimeout = 1.0\nlog_interval = 0.2\n{extra}\n'
        '[report]\nformats = ["json", "md", "html"]\nout_dir = "reports"\n', encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def ops_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from scripts.lab.testing import running_lab

    with running_lab(tmp_path_factory.mktemp("opslab"), sites=SITES, seed=3) as state:
        yield state


@pytest.fixture(scope="session")
def runs(ops_lab: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Runs:
    folder = tmp_path_factory.mktemp("runs")
    db = folder / "ops.duckdb"
    config = write_config(folder / "crawl.toml", db, Path(ops_lab["state_dir"]))
    results = [run("run", "--config", config, timeout=120) for _ in range(2)]
    for r in results:
        assert r.returncode == 0, r.stderr
    return Runs(config, db, results)
