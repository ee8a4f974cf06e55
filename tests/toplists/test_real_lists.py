"""The real, dated lists in ../shared/data/toplists (skipped where that folder is absent)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from crawler.toplists import load_list
from crawler.toplists.naming import read_list_ids


def test_cloudflare_radar(toplists: Path) -> None:
    path = toplists / "cloudflare_radar" / "radar_top-1000_2026-04-21.csv.gz"
    tl = load_list(str(path))
    assert (tl.name, tl.format, tl.list_date) == ("radar", "radar_csv", date(2026, 4, 21))
    assert {e.bucket for e in tl.entries} == {1000}
    assert len(tl.entries) + tl.rejected + tl.duplicates == 1000
    assert tl.rejected < 5  # Radar ranks a few bare public suffixes (ne.jp)
    assert all(r.reason.startswith("is a public suffix") for r in tl.rejects)
    assert tl.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_cloudflare_radar_100k(toplists: Path) -> None:
    tl = load_list(str(toplists / "cloudflare_radar" / "radar_top-100000_2026-04-27.csv.gz"))
    assert len(tl.entries) > 99_000
    assert {e.bucket for e in tl.entries} == {100_000}
    assert len(tl.entries) + tl.rejected + tl.duplicates == 100_000


def test_crux_buckets(toplists: Path) -> None:
    tl = load_list(str(toplists / "crux_us_via_webdep" / "crux_us_202304.csv"))
    assert (tl.name, tl.format, tl.list_date) == ("crux", "crux_bucket", date(2023, 4, 1))
    buckets = [e.bucket or 0 for e in tl.entries]
    assert buckets == sorted(buckets)
    assert set(buckets) == {1000, 5000, 10000}
    assert [e.rank for e in tl.entries] == list(range(1, len(tl.entries) + 1))
    assert tl.entries[0].domain == "mapquest.com"


def test_alexa_ranks_with_gaps(toplists: Path) -> None:
    tl = load_list(
        str(toplists / "alexa2020_top100k_derived" / "alexa2020_top100k_reconstructed.csv.gz"),
        top=1000,
    )
    assert (tl.name, tl.format) == ("alexa", "rank_domain")
    assert len(tl.entries) == 1000
    assert tl.entries[0].domain == "google.com"
    assert tl.entries[-1].rank >= 1000  # gaps and duplicates push the 1000th entry down
    assert len({e.domain for e in tl.entries}) == 1000
    assert 0 < tl.rejected < 20


def test_opendns_subdomains_collapse(toplists: Path) -> None:
    tl = load_list(str(toplists / "opendns_top10k_2014" / "opendns-top-domains_2014-06-04.txt"))
    assert (tl.name, tl.format, tl.list_date) == ("umbrella", "domain_lines", date(2014, 6, 4))
    assert tl.domains[:2] == ("google.com", "facebook.com")
    assert len(tl.entries) + tl.rejected + tl.duplicates == 10_000


def test_tranco_ids_file(toplists: Path) -> None:
    ids = read_list_ids(toplists / "tranco_list_ids" / "tranco_daily_list_ids.csv")
    assert ids.ids[date(2026, 4, 21)] == "QWKG4"
    assert ids.current == ids.ids[max(ids.ids)]
    assert ids.dates["QWKG4"] == date(2026, 4, 21)
