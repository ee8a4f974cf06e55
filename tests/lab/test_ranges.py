"""Range-feed parsers and version selection: on tiny inline feeds, and on the real files."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from crawler.ranges import (
    RangeRow,
    canonical_prefix,
    list_versions,
    nearest_version,
    nearest_versions,
    parse_aws,
    parse_azure,
    parse_cidr_list,
    parse_gcp,
    parse_geofeed,
    parse_normalised,
    parse_oracle,
)
from scripts.lab.world import default_data_dir

DATA = default_data_dir()
RANGES = DATA / "provider_ranges"
needs_data = pytest.mark.skipif(not RANGES.is_dir(), reason=f"reference data not found at {DATA}")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_canonical_prefix() -> None:
    assert canonical_prefix("10.1.2.3/8") == "10.0.0.0/8"
    assert canonical_prefix(" 2001:DB8::1/32 ") == "2001:db8::/32"
    assert canonical_prefix("1.2.3.4") == "1.2.3.4/32"
    for bad in ("1.2.3.4/33", "x/8", "01.2.3.4/24", "", "1.2.3.4/ 8"):
        assert canonical_prefix(bad) is None


def test_parse_aws_gz(tmp_path: Path) -> None:
    doc = {
        "prefixes": [
            {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "S3"},
            {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "S3"},
            {"ip_prefix": "not-a-prefix", "region": "x", "service": "EC2"},
        ],
        "ipv6_prefixes": [
            {"ipv6_prefix": "2600:1f00::/24", "region": "GLOBAL", "service": "AMAZON"}
        ],
    }
    rows = list(parse_aws(_write(tmp_path / "ip-ranges.json.gz", json.dumps(doc))))
    assert rows == [
        RangeRow("3.5.140.0/22", "aws", "ap-northeast-2", "S3"),
        RangeRow("2600:1f00::/24", "aws", "GLOBAL", "AMAZON"),
    ]


def test_parse_gcp_azure_oracle(tmp_path: Path) -> None:
    gcp = {
        "prefixes": [
            {"ipv4Prefix": "34.35.0.0/16", "service": "Google Cloud", "scope": "africa-south1"},
            {
                "ipv6Prefix": "2600:1900:8000::/44",
                "service": "Google Cloud",
                "scope": "africa-south1",
            },
        ]
    }
    assert [r.prefix for r in parse_gcp(_write(tmp_path / "cloud.json", json.dumps(gcp)))] == [
        "34.35.0.0/16",
        "2600:1900:8000::/44",
    ]
    azure = {
        "values": [
            {
                "name": "AzureCloud",
                "properties": {
                    "region": "",
                    "systemService": "",
                    "addressPrefixes": ["4.145.74.52/30"],
                },
            },
            {
                "name": "AzureFrontDoor.Frontend",
                "properties": {
                    "region": "",
                    "systemService": "AzureFrontDoor",
                    "addressPrefixes": ["13.107.246.0/24"],
                },
            },
            {
                "name": "AzureCloud.eastus",
                "properties": {
                    "region": "eastus",
                    "systemService": "",
                    "addressPrefixes": ["4.145.74.52/30"],
                },
            },
        ]
    }
    assert list(parse_azure(_write(tmp_path / "azure.json", json.dumps(azure)))) == [
        RangeRow("4.145.74.52/30", "microsoft", None, "AzureCloud"),
        RangeRow("13.107.246.0/24", "microsoft", None, "AzureFrontDoor"),
        RangeRow("4.145.74.52/30", "microsoft", "eastus", "AzureCloud"),
    ]
    oracle = {
        "regions": [
            {
                "region": "us-phoenix-1",
                "cidrs": [{"cidr": "129.146.0.0/21", "tags": ["OSN", "OCI"]}],
            }
        ]
    }
    assert list(parse_oracle(_write(tmp_path / "oracle.json", json.dumps(oracle)))) == [
        RangeRow("129.146.0.0/21", "oracle", "us-phoenix-1", "OCI,OSN")
    ]


def test_parse_geofeed_cidr_normalised(tmp_path: Path) -> None:
    geo = "# geofeed\n5.101.96.0/21,NL,NL-NH,Amsterdam,1105 AT\n2600:3c00::/32,US,,Richardson,\n\n"
    assert list(parse_geofeed(_write(tmp_path / "linode_2024-01-01.txt.gz", geo))) == [
        RangeRow("5.101.96.0/21", "linode", "NL-NH"),
        RangeRow("2600:3c00::/32", "linode", "US"),
    ]
    cidr = _write(tmp_path / "2024-12-31" / "amazon" / "ipv4.txt", "# c\n1.178.1.0/24\n\nbad\n")
    assert list(parse_cidr_list(cidr)) == [RangeRow("1.178.1.0/24", "aws")]
    norm = {"provider": "Google Cloud", "ipv4": ["34.1.0.0/16"], "ipv6": ["2600:1900::/28"]}
    rows = list(parse_normalised(_write(tmp_path / "google-cloud.json", json.dumps(norm))))
    assert [(r.prefix, r.provider) for r in rows] == [
        ("34.1.0.0/16", "google"),
        ("2600:1900::/28", "google"),
    ]


def test_versions_and_nearest(tmp_path: Path) -> None:
    aws = json.dumps({"prefixes": [{"ip_prefix": "3.0.0.0/15", "region": "r", "service": "EC2"}]})
    _write(tmp_path / "aws" / "ip-ranges_2015-12-23-20-22-16.json.gz", aws)
    _write(tmp_path / "aws" / "ip-ranges_2023-12-29-11-53-07.json.gz", aws)
    _write(tmp_path / "alfred" / "2023-12-29" / "amazon" / "ipv4.txt", "3.0.0.0/15\n")
    _write(tmp_path / "alfred" / "2023-12-29" / "amazon" / "ipv6.txt", "2600:1f00::/24\n")
    _write(
        tmp_path / "norm" / "2025-07-05" / "fastly.json", json.dumps({"ipv4": ["151.101.0.0/16"]})
    )
    _write(tmp_path / "raw" / "digitalocean_2024-01-01.csv.gz", "5.101.96.0/21,NL,NL-NH,A,1\n")
    _write(tmp_path / "README.md", "not a feed")
    found = list_versions(tmp_path)
    assert sorted(found) == ["aws", "digitalocean", "fastly"]
    assert [(v.date.isoformat(), v.format, len(v.paths)) for v in found["aws"]] == [
        ("2015-12-23", "aws", 1),
        ("2023-12-29", "aws", 1),
        ("2023-12-29", "cidr", 2),
    ]
    near = nearest_version(found["aws"], date(2024, 1, 1))
    assert (near.format, near.date) == ("aws", date(2023, 12, 29))  # own file wins a tie
    assert nearest_version(found["aws"], date(2014, 6, 4)).date == date(2015, 12, 23)
    assert {r.prefix for r in nearest_versions(tmp_path, date(2023, 1, 1))["aws"].rows()} == {
        "3.0.0.0/15"
    }
    with pytest.raises(ValueError):
        nearest_version([], date(2024, 1, 1))


@needs_data
def test_real_feeds_parse() -> None:
    found = list_versions(RANGES)
    for provider in (
        "aws",
        "google",
        "microsoft",
        "oracle",
        "digitalocean",
        "linode",
        "cloudflare",
        "akamai",
        "fastly",
    ):
        assert provider in found, provider
    for provider, versions in found.items():
        for version in versions:
            rows = list(version.rows())
            assert rows, (provider, version)
            assert all(r.provider == provider for r in rows)
            assert all(canonical_prefix(r.prefix) == r.prefix for r in rows)
    aws = nearest_version(found["aws"], date(2026, 4, 21))
    rows = list(aws.rows())
    assert aws.format == "aws" and any(":" in r.prefix for r in rows)
    assert any(r.service == "CLOUDFRONT" and r.region for r in rows)
    azure = next(v for v in found["microsoft"] if v.format == "azure")
    assert any(r.service == "AzureFrontDoor" for r in azure.rows())
    assert nearest_version(found["google"], date(2021, 12, 31)).format == "gcp"
