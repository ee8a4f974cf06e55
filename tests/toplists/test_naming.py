"""What file names tell: family, date, bucket, Tranco ID; and the date,ID mapping files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chokepoints.errors import ListError
from crawler.toplists.naming import (
    bucket_from_name,
    date_from_name,
    family_from_name,
    read_list_ids,
    tranco_id_from_name,
)


@pytest.mark.parametrize(
    ("name", "family", "day", "bucket"),
    [
        ("radar_top-1000_2026-04-21.csv.gz", "radar", date(2026, 4, 21), 1000),
        ("radar_top-100000_2026-04-27.csv.gz", "radar", date(2026, 4, 27), 100_000),
        ("crux_us_202304.csv", "crux", date(2023, 4, 1), None),
        ("opendns-top-domains_2014-06-04.txt", "umbrella", date(2014, 6, 4), None),
        ("umbrella-top-1m-20240102.csv.zip", "umbrella", date(2024, 1, 2), 1_000_000),
        ("top_10k.csv", "file", None, 10_000),
        ("tranco_QWKG4.csv", "tranco", None, None),
        ("list.csv", "file", None, None),
    ],
)
def test_names(name: str, family: str, day: date | None, bucket: int | None) -> None:
    assert family_from_name(name) == family
    assert date_from_name(name) == day
    assert bucket_from_name(name) == bucket


def test_tranco_id_from_name(tmp_path: Path) -> None:
    assert tranco_id_from_name("tranco_QWKG4.csv") == "QWKG4"
    assert tranco_id_from_name("2026-04-21_QWKG4.csv.gz") is None
    ids_file = tmp_path / "ids.csv"
    ids_file.write_text("2026-04-21,QWKG4\n")
    ids = read_list_ids(ids_file)
    assert tranco_id_from_name("2026-04-21_QWKG4.csv.gz", ids) == "QWKG4"


def test_read_list_ids_errors(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="Tranco list ID file not found"):
        read_list_ids(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("date,tranco_list_id\n")
    with pytest.raises(ListError, match="no date,tranco_list_id lines"):
        read_list_ids(empty)
