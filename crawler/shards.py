"""Parquet shards: how a distributed worker stores its observations, and how they are ingested.

A worker never opens the DuckDB file (DuckDB allows one writer): :class:`ShardWriter` has the
interface of :class:`crawler.store.BatchWriter` (``add``/``flush``) but writes every
``batch_sites`` sites as one new Parquet file per table, with the Arrow schemas of
:mod:`crawler.store`::

    <directory>/<table>/shard-<worker>-<seq>.parquet     (every table of crawler.store.TABLES)

Each file is written under a temporary name and renamed into place, so a reader never sees a
half-written shard. :func:`ingest_shards` loads a folder of shards into the database.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from chokepoints import db
from crawler.store import TABLES, SiteBuffer

logger = logging.getLogger(__name__)


def safe_worker_id(worker: str) -> str:
    """``worker`` made safe for a file name (letters, digits, ``.``, ``_``, ``-``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", worker) or "worker"


def write_atomically(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` as Parquet through a temporary name and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


class ShardWriter(SiteBuffer):
    """Buffers site results and writes them as Parquet shards, ``batch_sites`` sites a shard.

    :param directory: the run's shard folder (shared by all workers).
    :param snapshot_id: the coordinator's snapshot, stored on every row.
    :param worker: this worker's id, part of every shard's name.
    :param on_flush: called with the number of sites after each shard is in place (the worker
        reports progress to the coordinator through it).
    :param progress: called with 1 for every site added.
    """

    def __init__(
        self,
        directory: Path,
        snapshot_id: int,
        worker: str,
        *,
        batch_sites: int = 2000,
        on_flush: Callable[[int], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(snapshot_id, batch_sites=batch_sites, progress=progress)
        self.directory = Path(directory)
        self.worker = safe_worker_id(worker)
        self.on_flush = on_flush
        self.seq = 0

    def _write(self, tables: dict[str, pa.Table], sites: int) -> None:
        """One shard per table (empty ones too); site_outcomes last: a shard counts as written
        once its site_outcomes file exists."""
        name = f"shard-{self.worker}-{self.seq:06d}.parquet"
        for table in TABLES:
            write_atomically(tables[table], self.directory / table / name)
        self.seq += 1
        if self.on_flush is not None:
            self.on_flush(sites)


def shard_files(directory: Path, table: str) -> list[Path]:
    """The finished shards of ``table`` in ``directory``, in name order (temp files excluded)."""
    return sorted((Path(directory) / table).glob("shard-*.parquet"))


def ingest_shards(con: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, int]:
    """Load every shard in ``directory`` into the tables of :data:`crawler.store.TABLES`.

    Only shards whose ``site_outcomes`` file exists are loaded (a worker writes it last), all
    tables in one transaction.

    :returns: rows inserted per table.
    """
    complete = {p.name for p in shard_files(directory, "site_outcomes")}
    counts = {}
    con.execute("begin")
    try:
        for table in TABLES:
            files = [str(p) for p in shard_files(directory, table) if p.name in complete]
            if not files:
                counts[table] = 0
                continue
            # The table name comes from TABLES, never from input; the files are bound.
            row = con.execute(f"insert into {table} by name select * from read_parquet(?)", [files]).fetchone()
            counts[table] = int(row[0]) if row else 0
        con.execute("commit")
    except BaseException:
        db.rollback(con)
        raise
    logger.info("ingested %d shards from %s: %s", len(complete), directory, counts)
    return counts
