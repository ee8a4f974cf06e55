"""load_list on small files: every format, compression, rejects, duplicates, top, pinning."""

from __future__ import annotations

import hashlib
import time
from datetime import date
from pathlib import Path

import pytest

from chokepoints.errors import ListError, UserError
from crawler.toplists import PSL_VERSION, ListEntry, Reject, load_list, parse_list

from .conftest import WriteList

RANKED = "1,google.com\n2,www.youtube.com\n3,facebook.com\n4,mail.google.com\n5,bbc.co.uk\n"


def test_rank_domain(write_list: WriteList) -> None:
    tl = load_list(str(write_list("mine.csv", RANKED)))
    assert tl.format == "rank_domain"
    assert tl.entries == (
        ListEntry(1, "google.com", "google.com"),
        ListEntry(2, "youtube.com", "www.youtube.com"),
        ListEntry(3, "facebook.com", "facebook.com"),
        ListEntry(5, "bbc.co.uk", "bbc.co.uk"),
    )
    assert (tl.duplicates, tl.rejected, tl.rejects) == (1, 0, ())
    assert (tl.name, tl.list_id, tl.list_date) == ("file", None, None)
    assert tl.psl_version == PSL_VERSION


@pytest.mark.parametrize(
    "header",
    ["rank,domain\n", "Rank,Domain\n", '"rank","domain"\n', "# a comment\n\nrank,domain\n"],
)
def test_rank_domain_with_header(write_list: WriteList, header: str) -> None:
    tl = load_list(str(write_list("h.csv", header + RANKED)))
    assert tl.format == "rank_domain"
    assert tl.domains == ("google.com", "youtube.com", "facebook.com", "bbc.co.uk")
    assert tl.rejected == 0


def test_majestic_like_header_picks_named_columns(write_list: WriteList) -> None:
    text = "GlobalRank,TldRank,Domain,TLD\n1,1,google.com,com\n2,2,facebook.com,com\n"
    tl = load_list(str(write_list("majestic_million.csv", text)))
    assert tl.format == "rank_domain"
    assert tl.name == "majestic"
    assert tl.domains == ("google.com", "facebook.com")


def test_ranks_kept_with_gaps_and_sorted(write_list: WriteList) -> None:
    tl = load_list(str(write_list("gaps.csv", "10,ten.com\n2,two.com\n7,seven.com\n")))
    assert [(e.rank, e.domain) for e in tl.entries] == [
        (2, "two.com"),
        (7, "seven.com"),
        (10, "ten.com"),
    ]


def test_duplicates_keep_best_rank_even_out_of_order(write_list: WriteList) -> None:
    text = "5,www.example.com\n1,other.org\n3,example.com\n9,shop.example.com\n"
    tl = load_list(str(write_list("dups.csv", text)))
    assert [(e.rank, e.domain, e.raw) for e in tl.entries] == [
        (1, "other.org", "other.org"),
        (3, "example.com", "example.com"),
    ]
    assert tl.duplicates == 2


def test_domain_lines(write_list: WriteList) -> None:
    text = "google.com\nwww.facebook.com\n\nfacebook.com\nlocalhost\ntwitter.com\n"
    tl = load_list(str(write_list("opendns-top-domains.txt", text)))
    assert tl.format == "domain_lines"
    assert tl.name == "umbrella"
    # rank = position among data lines; a rejected line keeps its place
    assert [(e.rank, e.domain) for e in tl.entries] == [
        (1, "google.com"),
        (2, "facebook.com"),
        (5, "twitter.com"),
    ]
    assert tl.duplicates == 1
    assert tl.rejects == (Reject(5, "localhost", "not under a known public suffix: 'localhost'"),)


def test_radar_csv_bucket_and_date_from_name(write_list: WriteList) -> None:
    text = "domain\n0xrpc.io\n163.com\nne.jp\nzscaler.net\n"
    tl = load_list(str(write_list("radar_top-1000_2026-04-21.csv.gz", text)))
    assert (tl.format, tl.name, tl.list_date) == ("radar_csv", "radar", date(2026, 4, 21))
    assert [(e.rank, e.domain, e.bucket) for e in tl.entries] == [
        (1, "0xrpc.io", 1000),
        (2, "163.com", 1000),
        (4, "zscaler.net", 1000),
    ]
    assert tl.rejects == (Reject(4, "ne.jp", "is a public suffix: 'ne.jp'"),)


def test_crux_bucket_rank_by_bucket_then_line(write_list: WriteList) -> None:
    text = (
        "5000,https://www.late.com\n1000,https://www.example.co.uk\n"
        "1000,first.com\n10000,last.org\n5000,second.net\n"
    )
    tl = load_list(str(write_list("crux_us_202304.csv", text)))
    assert (tl.format, tl.name, tl.list_date) == ("crux_bucket", "crux", date(2023, 4, 1))
    assert [(e.rank, e.domain, e.bucket) for e in tl.entries] == [
        (1, "example.co.uk", 1000),
        (2, "first.com", 1000),
        (3, "late.com", 5000),
        (4, "second.net", 5000),
        (5, "last.org", 10000),
    ]


def test_crux_detected_without_name_hint(write_list: WriteList) -> None:
    tl = load_list(str(write_list("x.csv", "1000,a.com\n1000,b.com\n5000,c.com\n")))
    assert tl.format == "crux_bucket"
    assert [e.bucket for e in tl.entries] == [1000, 1000, 5000]


def test_crux_bigquery_origin_rank_header(write_list: WriteList) -> None:
    text = "origin,rank\nhttps://www.google.com,1000\nhttps://m.facebook.com,1000\n"
    tl = load_list(str(write_list("export.csv", text)))
    assert tl.format == "crux_bucket"
    assert [(e.domain, e.bucket) for e in tl.entries] == [
        ("google.com", 1000),
        ("facebook.com", 1000),
    ]


def test_fmt_overrides_detection(write_list: WriteList) -> None:
    path = write_list("x.csv", "1000,a.com\n1000,b.com\n5000,c.com\n")
    tl = load_list(str(path), fmt="rank_domain")
    assert tl.format == "rank_domain"
    # a.com and b.com share rank 1000: both kept, in line order
    assert [(e.rank, e.domain, e.bucket) for e in tl.entries] == [
        (1000, "a.com", None),
        (1000, "b.com", None),
        (5000, "c.com", None),
    ]


def test_fmt_radar_on_headerless_lines(write_list: WriteList) -> None:
    tl = load_list(str(write_list("plain.txt", "a.com\nb.com\n")), fmt="radar_csv")
    assert tl.format == "radar_csv"
    assert tl.domains == ("a.com", "b.com")


def test_unknown_fmt(write_list: WriteList) -> None:
    with pytest.raises(ListError, match="unknown list format 'xml'"):
        load_list(str(write_list("a.csv", RANKED)), fmt="xml")


@pytest.mark.parametrize("name", ["list.csv.gz", "top-1m.csv.zip", "gz-without-extension.csv"])
def test_compressed(write_list: WriteList, name: str) -> None:
    path = write_list(name, RANKED)
    if name.endswith("extension.csv"):
        import gzip

        path.write_bytes(gzip.compress(RANKED.encode()))
    tl = load_list(str(path))
    assert tl.domains == ("google.com", "youtube.com", "facebook.com", "bbc.co.uk")
    assert tl.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()  # bytes as stored


def test_zip_with_two_csvs_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", RANKED)
        archive.writestr("b.csv", RANKED)
    with pytest.raises(ListError, match="the zip must hold one csv"):
        load_list(str(path))


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ListError, match="corrupt archive"):
        load_list(str(path))


def test_rejects_counted_first_20_kept_with_reasons(write_list: WriteList) -> None:
    ips = "".join(f"{i},10.0.0.{i}\n" for i in range(1, 31))
    text = ips + "31,good.com\nx,a.com\n33\n34,co.uk\n"
    path = write_list("bad.csv", text)
    with path.open("ab") as handle:
        handle.write(b"35,caf\xff.com\n36,\x00\x01\x02\n")
    tl = load_list(str(path))
    assert tl.domains == ("good.com",)
    assert tl.rejected == 35
    assert len(tl.rejects) == 20
    assert [r.line_no for r in tl.rejects] == list(range(1, 21))
    assert tl.rejects[0] == Reject(1, "1,10.0.0.1", "IP address literal")
    assert load_list(str(path), top=1).rejected == 35


def test_parse_stage_reasons(write_list: WriteList) -> None:
    text = "1,good.com\nx,rankless.com\n0,zero.com\n3\n4,co.uk\n5,caf\xe9.com\n"
    path = write_list("r.csv", text)
    with path.open("ab") as handle:
        handle.write(b"6,caf\xff.com\n7,\x00\x01\x02\n")
    tl = load_list(str(path))
    assert [(r.line_no, r.reason) for r in tl.rejects] == [
        (2, "invalid rank 'x'"),
        (3, "invalid rank '0'"),
        (4, "expected 2 comma-separated fields, found 1"),
        (5, "is a public suffix: 'co.uk'"),
        (7, "not valid UTF-8 (binary garbage?)"),
        (8, "control characters (binary garbage?)"),
    ]
    assert tl.domains == ("good.com", "xn--caf-dma.com")


def test_top_counts_after_normalisation_and_dedup(write_list: WriteList) -> None:
    text = "1,www.a.com\n2,a.com\n3,10.1.1.1\n4,b.com\n5,c.com\n6,d.com\n"
    tl = load_list(str(write_list("t.csv", text)), top=3)
    assert [(e.rank, e.domain) for e in tl.entries] == [(1, "a.com"), (4, "b.com"), (5, "c.com")]
    assert (tl.duplicates, tl.rejected) == (1, 1)  # whole-file counts
    with pytest.raises(ListError, match="top must be at least 1"):
        load_list(str(write_list("t2.csv", text)), top=0)


def test_sha256_stable_and_of_stored_bytes(write_list: WriteList, tmp_path: Path) -> None:
    path = write_list("s.csv.gz", RANKED)
    first, second = load_list(str(path)), load_list(str(path))
    assert first.sha256 == second.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert first == second
    other = write_list("s2.csv", RANKED + "6,new.com\n")
    assert load_list(str(other)).sha256 != first.sha256


def test_list_date_and_id_given_override(write_list: WriteList) -> None:
    path = write_list("radar_top-1000_2026-04-21.csv", "domain\na.com\n")
    tl = load_list(str(path), list_date=date(2020, 1, 2), list_id="ABCDE")
    assert (tl.list_date, tl.list_id, tl.name) == (date(2020, 1, 2), "ABCDE", "radar")


def test_tranco_file_name_and_ids_file(write_list: WriteList, tmp_path: Path) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("date,tranco_list_id\n2026-04-21,QWKG4\ncurrent,QWKG4\n")
    tl = load_list(str(write_list("tranco_QWKG4.csv", RANKED)), list_ids=ids)
    assert (tl.name, tl.list_id, tl.list_date) == ("tranco", "QWKG4", date(2026, 4, 21))
    cached = load_list(str(write_list("2026-04-21_QWKG4.csv.gz", RANKED)), list_ids=ids)
    assert (cached.name, cached.list_id) == ("tranco", "QWKG4")
    plain = load_list(str(write_list("tranco_QWKG4.csv", RANKED)))
    assert (plain.list_id, plain.list_date) == ("QWKG4", None)


def test_missing_file() -> None:
    with pytest.raises(ListError, match=r"^list file not found: /no/such/list\.csv$"):
        load_list("/no/such/list.csv")
    with pytest.raises(UserError, match="needs an API token"):
        load_list("radar")  # a named source: Radar's API needs a token (none in the tests)
    with pytest.raises(UserError, match="lists by name: tranco, umbrella"):
        load_list("alexa")


def test_unreadable_directory(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="list file not found"):
        load_list(str(tmp_path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "list is empty"),
        (b"\n\n  \n", "list is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "no valid domains in .*: 3 lines rejected"),
        (b"rank,domain\n1,10.0.0.1\n2,localhost\n", "no valid domains .* e.g. line 2: IP address"),
    ],
)
def test_nothing_valid_fails_in_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ListError, match=message) as info:
        load_list(str(path))
    assert "\n" not in str(info.value)


def test_crlf_bom_and_quotes(write_list: WriteList) -> None:
    text = '\ufeffrank,domain\r\n1,"google.com"\r\n2, "youtube.com" \r\n'
    tl = load_list(str(write_list("w.csv", text)))
    assert tl.domains == ("google.com", "youtube.com")


def test_parse_list_from_bytes() -> None:
    tl = parse_list(RANKED.encode(), source="memory", name="tranco", list_id="X1234")
    assert (tl.source, tl.name, tl.list_id, len(tl.entries)) == ("memory", "tranco", "X1234", 4)


def test_speed_guard(tmp_path: Path) -> None:
    """200k lines well under the budget (the 1M-line figure is ~3 s on a slow 2-core box)."""
    path = tmp_path / "big.csv"
    path.write_text("".join(f"{i},www.site{i}.co.uk\n" for i in range(1, 200_001)))
    started = time.perf_counter()
    tl = load_list(str(path))
    assert time.perf_counter() - started < 5
    assert (len(tl.entries), tl.duplicates, tl.rejected) == (200_000, 0, 0)
