"""Providers' published IP ranges: parsers per feed format and dated-version selection.

The attribution stage names a provider from an address first by the provider's own published
ranges, at the version nearest the snapshot's date (DESIGN.md, "Attribution"). The parsers and
:mod:`~crawler.ranges.catalog` read those feeds from files. The database side is imported from
its own modules (they pull in DuckDB and the registry):

- :mod:`crawler.ranges.store` — ``load_feed_file``, ``load_folder``, ``fetch_current`` into
  ``range_feeds`` / ``ip_ranges`` (catalogue: ``datasets/feeds.toml``, :mod:`~crawler.ranges.feeds`);
- :mod:`crawler.ranges.match` — ``select_versions``, ``match_addresses`` into ``ip_range_matches``.
"""

from __future__ import annotations

from crawler.ranges.catalog import (
    PARSERS,
    RangeVersion,
    list_versions,
    nearest_version,
    nearest_versions,
)
from crawler.ranges.model import (
    RangeRow,
    canonical_prefix,
    format_prefix,
    open_text,
    prefix_ints,
    provider_id,
)
from crawler.ranges.parsers import (
    parse_aws,
    parse_azure,
    parse_cidr_list,
    parse_gcp,
    parse_geofeed,
    parse_normalised,
    parse_oracle,
)

__all__ = [
    "PARSERS",
    "RangeRow",
    "RangeVersion",
    "canonical_prefix",
    "format_prefix",
    "list_versions",
    "nearest_version",
    "nearest_versions",
    "open_text",
    "parse_aws",
    "parse_azure",
    "parse_cidr_list",
    "parse_gcp",
    "parse_geofeed",
    "parse_normalised",
    "parse_oracle",
    "prefix_ints",
    "provider_id",
]
