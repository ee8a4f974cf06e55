"""Defaults shared by the command line and the library.

* ``CHOKEPOINTS_CACHE`` — where downloads (lists, RIBs) are cached; default
  ``~/.cache/chokepoints``.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CACHE_DIR = Path(os.environ.get("CHOKEPOINTS_CACHE", Path.home() / ".cache" / "chokepoints"))
