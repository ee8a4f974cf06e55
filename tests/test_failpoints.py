"""Kill points (chokepoints.failpoints): parsed strictly, inert unless set, and a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from chokepoints import failpoints


def test_parse() -> None:
    assert failpoints.parse(None) is None and failpoints.parse("") is None
    assert failpoints.parse("dns:40") == ("dns", 40)
    assert failpoints.parse("attribution") == ("attribution", 0)
    for bad in ("dns:x", "write:3", "pages:-1"):
        with pytest.raises(ValueError, match=failpoints.ENV):
            failpoints.parse(bad)


def _run(spec: str | None, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != failpoints.ENV}
    if spec is not None:
        env[failpoints.ENV] = spec
    return subprocess.run([sys.executable, "-c", "from chokepoints import failpoints as f\n" + code],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


def test_the_process_kills_itself_at_the_named_point_and_count() -> None:
    code = "for n in range(1, 6):\n    f.reached('dns', n)\n    print(n, flush=True)\n"
    run = _run("dns:3", code)
    assert run.returncode == -signal.SIGKILL and run.stdout.split() == ["1", "2"]
    assert _run("pages:3", code).stdout.split() == ["1", "2", "3", "4", "5"]  # another point
    assert _run(None, code).returncode == 0
