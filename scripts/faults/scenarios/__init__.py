"""The fault scenarios, one module per family; importing a module registers its scenarios.

To add a family, write a module here and name it in :data:`MODULES` (the order is the table's).
"""

from __future__ import annotations

import importlib

MODULES = ("input_lists", "dns_faults", "rdap_faults", "http_faults", "crashes", "disk", "concurrency", "output")


def load() -> None:
    """Import every scenario module (registering its scenarios in ``harness.SCENARIOS``)."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
