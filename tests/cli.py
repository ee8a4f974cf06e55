"""Run the real command line in a subprocess (Scrapy's reactor runs once per process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(*args: str | Path, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "chokepoints", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env, check=False,
    )
