"""ShardWriter and ingest_shards against a real DuckDB: shards round-trip into the tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from crawler.shards import ShardWriter, ingest_shards, safe_worker_id, shard_files


@dataclass(frozen=True)
class Record:
    name: str
    rtype: str
    ttl: int
    value: str


@dataclass(frozen=True)
class Query:
    qname: str
    qtype: str
    status: str
    records: tuple[Record, ...]
    attempts: int = 1
    transport: str = "udp"
    elapsed_ms: float = 1.0


@dataclass(frozen=True)
class Site:
    domain: str
    status: str
    results: tuple[Query, ...]


def site(i: int) -> Site:
    a = Query(f"s{i}.test", "A", "NOERROR", (Record(f"s{i}.test", "A", 60, f"192.0.2.{i}"),))
    mx = Query(f"s{i}.test", "MX", "NODATA", ())
    return Site(f"s{i}.test", "NOERROR", (a, mx))


def test_shards_are_written_atomically_and_ingested(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    flushed: list[int] = []
    w = ShardWriter(tmp_path, 7, "host/1", batch_sites=2, on_flush=flushed.append)
    for i in range(5):
        w.add(site(i), 3.0)
    w.flush()
    assert flushed == [2, 2, 1] and w.sites_written == 5 and w.rows_written == 10
    assert [p.name for p in shard_files(tmp_path, "site_outcomes")] == [
        f"shard-host_1-{n:06d}.parquet" for n in range(3)]
    assert not list(tmp_path.rglob(".*.tmp"))
    counts = ingest_shards(con, tmp_path)
    assert counts == {"dns_answers": 10, "site_outcomes": 5, "host_answers": 0, "http_outcomes": 0,
                      "http_hops": 0, "http_headers": 0, "tls_certificates": 0, "page_resources": 0}
    assert con.execute("select count(distinct domain), min(snapshot_id), max(snapshot_id) "
                       "from site_outcomes").fetchall() == [(5, 7, 7)]


def test_a_shard_without_outcomes_is_not_ingested(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    w = ShardWriter(tmp_path, 1, "a", batch_sites=1)
    w.add(site(1))
    (tmp_path / "site_outcomes" / "shard-a-000000.parquet").unlink()
    assert set(ingest_shards(con, tmp_path).values()) == {0}


def test_worker_ids_are_safe_file_names() -> None:
    assert safe_worker_id("../x y") == ".._x_y"
    assert safe_worker_id("") == "worker"
