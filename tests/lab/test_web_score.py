"""``scripts/score_lab.py``'s HTTP parts: the resources check against ``page_resources``, and a
database without the HTTP tables (the check is "n/a", never an error)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from scripts.score_lab import has_http, read_resources, score_resources


def _db(with_http: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("create table list_entries (snapshot_id integer, rank integer, domain varchar)")
    con.execute("insert into list_entries values (1, 1, 'a.com'), (1, 2, 'b.org'), (1, 3, 'c.net')")
    if with_http:
        con.execute("create table http_outcomes (snapshot_id integer, domain varchar, status varchar)")
        con.execute("insert into http_outcomes values (1, 'a.com', 'OK')")
        con.execute("create table page_resources (snapshot_id integer, domain varchar, host varchar, tag varchar, "
                    "count integer, third_party boolean)")
        con.execute("""insert into page_resources values
            (1, 'a.com', 'cdn.x.com', 'script', 2, true), (1, 'a.com', 'cdn.x.com', 'img', 1, true),
            (1, 'a.com', 'static.a.com', 'link', 1, false), (1, 'b.org', 'fonts.y.net', 'link', 1, true),
            (1, 'b.org', 'extra.z.io', 'img', 1, true), (2, 'c.net', 'other.q.com', 'img', 1, true)""")
    return con


def test_resources_compared_per_site(tmp_path: Path) -> None:
    path = tmp_path / "resources.csv"
    path.write_text("domain,host\na.com,cdn.x.com\nb.org,fonts.y.net\nc.net,w.v.com\n")
    assert read_resources(path)["a.com"] == {"cdn.x.com"}
    con = _db(with_http=True)
    assert has_http(con, 1) and not has_http(con, 2)
    result = score_resources(con, 1, path)
    assert result is not None
    assert result["sites"] == 3 and result["accuracy"] == 1 / 3  # a.com right; b.org one extra; c.net missing
    assert result["precision"] == 2 / 3 and result["recall"] == 2 / 3
    assert result["examples_wrong"]["b.org"] == {"missing": [], "extra": ["extra.z.io"]}
    assert result["examples_wrong"]["c.net"] == {"missing": ["w.v.com"], "extra": []}


def test_without_http_tables(tmp_path: Path) -> None:
    path = tmp_path / "resources.csv"
    path.write_text("domain,host\n")
    con = _db(with_http=False)
    assert not has_http(con, 1)
    assert score_resources(con, 1, path) is None
