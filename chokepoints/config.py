"""Defaults shared by the command line and the library.

* ``CHOKEPOINTS_CACHE`` — where downloads (lists, RIBs) are cached; default
  ``~/.cache/chokepoints``.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CACHE_DIR = Path(os.environ.get("CHOKEPOINTS_CACHE", Path.home() / ".cache" / "chokepoints"))


def loopback_only() -> bool:
    """True when ``CHOKEPOINTS_LOOPBACK_ONLY`` is set (to anything but ``0``/empty).

    A hermetic mode for tests and the lab: no downloads, and every DNS server must be on
    loopback, so that a forgotten ``--resolver`` can never send a query to the machine's
    own resolver.
    """
    return os.environ.get("CHOKEPOINTS_LOOPBACK_ONLY", "") not in ("", "0")
