"""Parsers for providers' published IP-range feeds, one function per format.

Each ``parse_*`` function reads one file (``.gz`` transparently) and yields
:class:`~crawler.ranges.model.RangeRow` values. They are pure readers: no network, no registry;
which file to read for which date is :mod:`crawler.ranges.catalog`'s job.

Formats:

- AWS ``ip-ranges.json``: ``prefixes[].ip_prefix`` and ``ipv6_prefixes[].ipv6_prefix``, with
  ``region`` and ``service``.
- GCP ``cloud.json``: ``prefixes[].ipv4Prefix|ipv6Prefix`` with ``scope`` (region) and
  ``service``.
- Azure service tags: ``values[].properties.addressPrefixes`` with ``region`` and
  ``systemService`` (or the tag's own name, ``AzureCloud``, when no service is given).
- Oracle: ``regions[].cidrs[].cidr`` with the region name and the ``tags`` as service.
- geofeed CSV (RFC 8805; DigitalOcean, Linode): ``prefix,country,subdivision,city,postal``;
  the region is the subdivision (``US-NJ``) or else the country.
- plain CIDR lists: one prefix a line, ``#`` comments.
- the normalised JSON of disposable/cloud-ip-ranges: ``{provider, ipv4[], ipv6[]}``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.ranges.model import RangeRow, open_text, provider_id, rows


def _load_json(path: Path) -> Any:
    with open_text(path) as fh:
        return json.load(fh)


def parse_aws(path: Path, provider: str = "aws") -> Iterator[RangeRow]:
    """Parse an AWS ``ip-ranges.json`` (IPv4 ``prefixes`` and, where present, ``ipv6_prefixes``)."""
    doc = _load_json(path)

    def triples() -> Iterator[tuple[str, str | None, str | None]]:
        for item in doc.get("prefixes", []):
            yield item["ip_prefix"], item.get("region"), item.get("service")
        for item in doc.get("ipv6_prefixes", []):
            yield item["ipv6_prefix"], item.get("region"), item.get("service")

    return rows(triples(), provider, path)


def parse_gcp(path: Path, provider: str = "google") -> Iterator[RangeRow]:
    """Parse a Google Cloud ``cloud.json`` (``ipv4Prefix`` / ``ipv6Prefix``, ``scope``)."""
    doc = _load_json(path)

    def triples() -> Iterator[tuple[str, str | None, str | None]]:
        for item in doc.get("prefixes", []):
            text = item.get("ipv4Prefix") or item.get("ipv6Prefix")
            if text:
                yield text, item.get("scope"), item.get("service")

    return rows(triples(), provider, path)


def parse_azure(path: Path, provider: str = "microsoft") -> Iterator[RangeRow]:
    """Parse an Azure service-tags file (``ServiceTags_Public_*.json``).

    A prefix appears under several tags (``AzureCloud``, ``AzureCloud.eastus``, a service tag);
    each distinct (prefix, region, service) is one row.
    """
    doc = _load_json(path)

    def triples() -> Iterator[tuple[str, str | None, str | None]]:
        for tag in doc.get("values", []):
            props = tag.get("properties", {})
            service = props.get("systemService") or str(tag.get("name", "")).split(".")[0]
            region = props.get("region") or None
            for text in props.get("addressPrefixes", []):
                yield text, region, service or None

    return rows(triples(), provider, path)


def parse_oracle(path: Path, provider: str = "oracle") -> Iterator[RangeRow]:
    """Parse Oracle Cloud's ``public_ip_ranges.json`` (``regions[].cidrs[]`` with ``tags``)."""
    doc = _load_json(path)

    def triples() -> Iterator[tuple[str, str | None, str | None]]:
        for region in doc.get("regions", []):
            for cidr in region.get("cidrs", []):
                tags = cidr.get("tags") or []
                yield cidr["cidr"], region.get("region"), ",".join(sorted(tags)) or None

    return rows(triples(), provider, path)


def parse_geofeed(path: Path, provider: str | None = None) -> Iterator[RangeRow]:
    """Parse an RFC 8805 geofeed CSV; *provider* defaults to the file name's first word."""
    name = provider or provider_id(path.name.split("_")[0].split(".")[0])

    def triples() -> Iterator[tuple[str, str | None, str | None]]:
        with open_text(path) as fh:
            for record in csv.reader(line for line in fh if not line.startswith("#")):
                if not record or not record[0].strip():
                    continue
                country = record[1].strip() if len(record) > 1 else ""
                subdivision = record[2].strip() if len(record) > 2 else ""
                yield record[0], subdivision or country or None, None

    return rows(triples(), name, path)


def parse_cidr_list(path: Path, provider: str | None = None) -> Iterator[RangeRow]:
    """Parse a plain list of CIDRs, one a line (``#`` comments and blank lines skipped).

    *provider* defaults to the name of the folder holding the file (``.../amazon/ipv4.txt``).
    """
    name = provider or provider_id(path.parent.name)

    def triples() -> Iterator[tuple[str, str | None, str | None]]:
        with open_text(path) as fh:
            for line in fh:
                text = line.split("#", 1)[0].strip()
                if text:
                    yield text, None, None

    return rows(triples(), name, path)


def parse_normalised(path: Path, provider: str | None = None) -> Iterator[RangeRow]:
    """Parse disposable/cloud-ip-ranges' normalised JSON (``{provider, ipv4[], ipv6[]}``).

    *provider* defaults to the file's stem mapped to a provider id (``google-cloud`` -> google).
    """
    doc = _load_json(path)
    name = provider or provider_id(path.name.split(".")[0])

    def triples() -> Iterator[tuple[str, str | None, str | None]]:
        for key in ("ipv4", "ipv6"):
            for text in doc.get(key, []):
                yield text, None, None

    return rows(triples(), name, path)
