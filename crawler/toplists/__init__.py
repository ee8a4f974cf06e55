"""Top lists: load, normalise to registrable domains and pin (hash, list ID, date, PSL).

``load_list("tranco", top=1000)`` or ``load_list("radar_top-1000_2026-04-21.csv.gz")`` gives
a :class:`TopList` of distinct registrable domains in rank order, with what was rejected and
why. See :func:`load_list` for the formats and :mod:`crawler.toplists.tranco` for downloads.
"""

from __future__ import annotations

from .formats import FORMATS
from .loader import DEFAULT_CACHE_DIR, load_list, parse_list
from .model import ListEntry, Reject, TopList
from .normalise import PSL_VERSION, normalise_domain

__all__ = [
    "DEFAULT_CACHE_DIR",
    "FORMATS",
    "PSL_VERSION",
    "ListEntry",
    "Reject",
    "TopList",
    "load_list",
    "normalise_domain",
    "parse_list",
]
