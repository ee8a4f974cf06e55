"""Loading range feeds: the migration, real files of every format, idempotence, user errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from chokepoints import db
from chokepoints.errors import UserError
from crawler import registry
from crawler.ranges.feeds import load_catalogue, resolve_provider
from crawler.ranges.formats import FORMATS
from crawler.ranges.store import LoadStatus, load_feed_file, load_folder, stored_feeds
from tests.ranges.helpers import aws_json, cidr_list


@pytest.fixture(scope="module")
def ranges_dir(shared_data: Path) -> Path:
    folder = shared_data / "provider_ranges"
    if not folder.is_dir():
        pytest.skip(f"range feeds not found at {folder}")
    return folder


def test_migration_applies_on_a_fresh_database(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "fresh.duckdb")
    try:
        versions = [r[0] for r in con.execute("select version from schema_migrations order by 1").fetchall()]
        assert 2 in versions
        cols = dict(con.execute(
            "select table_name || '.' || column_name, data_type from information_schema.columns"
            " where table_name in ('range_feeds', 'ip_ranges', 'snapshot_feeds', 'ip_range_matches')"
        ).fetchall())
        assert cols["ip_ranges.start_num"] == "UHUGEINT" and cols["ip_ranges.end_num"] == "UHUGEINT"
        assert cols["ip_ranges.family"] == "TINYINT" and cols["ip_ranges.prefix_len"] == "SMALLINT"
        assert cols["range_feeds.published"] == "DATE"
        assert {"snapshot_feeds.snapshot_id", "snapshot_feeds.feed_id", "ip_range_matches.service"} <= set(cols)
    finally:
        con.close()
    assert db.connect(tmp_path / "fresh.duckdb").execute("select count(*) from range_feeds").fetchall() == [(0,)]


def test_the_catalogue_maps_every_feed_to_a_registry_provider() -> None:
    cat = load_catalogue()
    known = registry.load().providers.keys()
    for spec in cat.feeds.values():
        assert resolve_provider(spec.providers, known), spec.id
        assert spec.format in FORMATS, spec.id
        assert spec.urls or spec.url_source, spec.id
    assert set(cat.feeds) >= {"aws-ip-ranges", "gcp-cloud", "azure-service-tags", "oracle", "cloudflare", "fastly",
                              "digitalocean-geofeed", "linode-geofeed"}


def test_real_aws_files_2015_and_2026(con: duckdb.DuckDBPyConnection, ranges_dir: Path) -> None:
    folder = ranges_dir / "aws_ip-ranges_json"
    old = load_feed_file(con, folder / "ip-ranges_2015-12-23-20-22-16.json.gz")
    new = load_feed_file(con, folder / "ip-ranges_2026-08-21-23-57-05.json.gz")
    assert (old.feed, old.provider, old.published, old.status) == ("aws-ip-ranges", "aws", date(2015, 12, 23),
                                                                     LoadStatus.NEW)
    assert new.published == date(2026, 8, 21) and new.prefixes > 10 * old.prefixes
    rows = con.execute(
        "select family, count(*) from ip_ranges where feed_id = ? group by 1 order by 1", [new.feed_id]
    ).fetchall()
    assert [f for f, _ in rows] == [4, 6]
    assert sum(n for _, n in rows) == new.prefixes
    # Both rows of a prefix AWS lists as AMAZON and as a service are kept.
    assert con.execute(
        "select list(service order by service), any_value(start_num)::varchar, any_value(end_num)::varchar,"
        " any_value(prefix_len) from ip_ranges where feed_id = ? and prefix = '23.228.249.0/24'", [new.feed_id]
    ).fetchall() == [(["AMAZON", "CLOUDFRONT"], str(0x17E4F900), str(0x17E4F9FF), 24)]
    v6 = con.execute("select start_num::varchar, end_num::varchar from ip_ranges where feed_id = ?"
                     " and prefix = '2600:f0f0:2::/48' limit 1", [new.feed_id]).fetchall()
    assert v6 == [(str(0x2600F0F00002 << 80), str((0x2600F0F00002 << 80) | ((1 << 80) - 1)))]
    versions = {r["published"]: r["version"] for r in stored_feeds(con)}
    assert versions[date(2015, 12, 23)] == "1450901537"  # syncToken


@pytest.mark.parametrize(("name", "feed", "provider", "published", "version"), [
    # GCP: creationTime (2025-04-11) wins over the date in the name.
    ("google-cloud-ip-ranges_2025-04-12.json.gz", "gcp-cloud", ("google-cloud", "google"), date(2025, 4, 11), True),
    # Azure carries no date, only changeNumber: the name's date.
    ("microsoft-azure-ip-ranges_2024-01-01.json.gz", "azure-service-tags", ("microsoft",), date(2024, 1, 1), True),
    ("oracle-cloud-ip-ranges_2021-12-31.json.gz", "oracle", ("oracle",), date(2021, 12, 17), False),
    ("digitalocean_2024-01-01.csv.gz", "digitalocean-geofeed", ("digitalocean",), date(2024, 1, 1), False),
    # Linode's geofeed says "# Last modified: 2024-01-01 10:00:05".
    ("linode_2024-01-01.txt.gz", "linode-geofeed", ("linode",), date(2024, 1, 1), False),
])
def test_real_provider_files(con: duckdb.DuckDBPyConnection, ranges_dir: Path, name: str, feed: str,
                             provider: tuple[str, ...], published: date, version: bool) -> None:
    loaded = load_feed_file(con, ranges_dir / "disposable_cloud-ip-ranges" / "raw_published" / name)
    assert (loaded.feed, loaded.published, loaded.status) == (feed, published, LoadStatus.NEW)
    assert loaded.provider == resolve_provider(provider, registry.load().providers.keys())
    assert loaded.prefixes > 400
    stored = stored_feeds(con)[0]
    assert (stored["version"] is not None) is version
    regions = con.execute("select count(region) from ip_ranges where feed_id = ?", [loaded.feed_id]).fetchall()
    assert regions[0][0] > 0


def test_cidr_lists_and_normalised_copies(con: duckdb.DuckDBPyConnection, ranges_dir: Path) -> None:
    loads = load_folder(con, ranges_dir / "lord-alfred_ipranges" / "2024-12-31")
    by_feed = {r.feed: r for r in loads}
    assert by_feed["cidr:amazon"].provider == "aws"          # [aliases] amazon = ["aws"]
    assert by_feed["cidr:microsoft"].provider == "microsoft"
    assert by_feed["cidr:amazon"].published == date(2024, 12, 31)
    families = con.execute("select distinct family from ip_ranges where feed_id = ? order by 1",
                           [by_feed["cidr:amazon"].feed_id]).fetchall()
    assert families == [(4,), (6,)]                           # ipv4.txt + ipv6.txt are one version
    for r in loads:
        assert r.status in (LoadStatus.NEW, LoadStatus.SKIPPED)
        if r.status is LoadStatus.SKIPPED:
            assert r.reason and "not a registry provider" in r.reason
    normalised = load_feed_file(con, ranges_dir / "disposable_cloud-ip-ranges" / "2025-07-05" / "cloudflare.json")
    assert (normalised.feed, normalised.provider, normalised.published) == (
        "normalised:cloudflare", "cloudflare", date(2025, 5, 6))   # its last_update


def test_loading_twice_adds_nothing(con: duckdb.DuckDBPyConnection, ranges_dir: Path) -> None:
    folder = ranges_dir / "aws_ip-ranges_json"
    first = load_folder(con, folder)
    assert len(first) == 5 and all(r.status is LoadStatus.NEW for r in first)
    count = con.execute("select count(*) from ip_ranges").fetchall()
    again = load_folder(con, folder)
    assert [r.status for r in again] == [LoadStatus.ALREADY] * 5
    assert [r.feed_id for r in again] == [r.feed_id for r in first]
    assert con.execute("select count(*) from ip_ranges").fetchall() == count
    assert con.execute("select count(*) from range_feeds").fetchall() == [(5,)]


def test_names_the_catalogue_knows(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # Cloudflare's lists saved as one file; Fastly's JSON; an Azure file as Microsoft names it.
    cf = load_feed_file(con, cidr_list(tmp_path / "cloudflare_2026-05-01.txt", ["104.16.0.0/13", "2606:4700::/32"]))
    assert (cf.feed, cf.provider, cf.published, cf.prefixes) == ("cloudflare", "cloudflare", date(2026, 5, 1), 2)
    fastly = tmp_path / "public-ip-list.json"
    fastly.write_text(json.dumps({"addresses": ["151.101.0.0/16"], "ipv6_addresses": ["2a04:4e40::/32"]}))
    got = load_feed_file(con, fastly, published=date(2026, 5, 2))
    assert (got.feed, got.provider, got.prefixes) == ("fastly", "fastly", 2)
    azure = tmp_path / "ServiceTags_Public_20260518.json"
    azure.write_text(json.dumps({"changeNumber": 7, "cloud": "Public", "values": [
        {"name": "AzureCloud", "properties": {"region": "", "addressPrefixes": ["20.0.0.0/11"]}}]}))
    got = load_feed_file(con, azure)
    assert (got.feed, got.provider, got.published) == ("azure-service-tags", "microsoft", date(2026, 5, 18))
    # A file named like nothing known is recognised by its content.
    odd = aws_json(tmp_path / "download.json", [("3.5.140.0/22", "ap-northeast-2", "S3")])
    got = load_feed_file(con, odd)
    assert (got.feed, got.provider, got.published) == ("aws-ip-ranges", "aws", date(2026, 5, 1))


def test_user_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_feed_file(con, tmp_path / "missing.json")
    junk = tmp_path / "notes.txt"
    junk.write_text("hello world\n")
    with pytest.raises(UserError, match="not a range feed"):
        load_feed_file(con, junk)
    undated = cidr_list(tmp_path / "ips-v4", ["104.16.0.0/13"])
    with pytest.raises(UserError, match="--published"):
        load_feed_file(con, undated)
    assert load_feed_file(con, undated, published=date(2026, 1, 1)).feed == "cloudflare"
    with pytest.raises(UserError, match="not in the registry"):
        load_feed_file(con, undated, provider="no-such-provider", published=date(2026, 1, 1))
    with pytest.raises(UserError, match="unknown feed"):
        load_feed_file(con, undated, feed="bogus", published=date(2026, 1, 1))
    unknown = cidr_list(tmp_path / "2026-01-01" / "no-such-cloud" / "ipv4.txt", ["198.51.100.0/24"])
    with pytest.raises(UserError, match="--provider"):
        load_feed_file(con, unknown)
    with pytest.raises(UserError, match="folder not found"):
        load_folder(con, tmp_path / "nope")
