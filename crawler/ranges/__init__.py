"""Providers' published IP ranges: parsers per feed format and dated-version selection.

The attribution stage names a provider from an address first by the provider's own published
ranges, at the version nearest the snapshot's date (DESIGN.md, "Attribution"). This package
reads those feeds; it does no network work (fetchers hand it files).
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
