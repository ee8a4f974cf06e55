"""The coordinator's queue in a real Redis: batches queued once, workers join, drain signals."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from crawler.distributed import RunKeys, connect, fully_queued, join, publish
from tests.distributed.redis_server import running_redis

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None and not Path("/usr/bin/redis-server").exists(),
    reason="redis-server not installed",
)
SETTINGS = {"resolvers": ["127.0.0.1:53"], "timeout": 1.0, "retries": 0, "max_inflight": 10, "batch_sites": 25}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[redis.Redis]:
    with running_redis(tmp_path) as url:
        yield connect(url)


def test_publish_queues_each_batch_once_and_workers_join(server: redis.Redis) -> None:
    keys = RunKeys("t", "run1")
    domains = [f"s{i}.test" for i in range(60)]
    assert publish(server, keys, 4, domains, SETTINGS) == 3
    assert server.llen(keys.key("requests")) == 3
    job = join(server, "t", wait=1)
    assert (job.keys, job.snapshot_id, job.settings) == (keys, 4, SETTINGS)
    assert fully_queued(server, keys)


def test_workers_stop_when_the_run_is_over(server: redis.Redis) -> None:
    keys = RunKeys("t", "run2")
    server.set(keys.current, '{"run": "run2", "snapshot_id": 1, "settings": {}}')
    assert not fully_queued(server, keys)  # published but still queueing
    server.delete(keys.current)
    assert fully_queued(server, keys)  # the coordinator finished and cleaned up


def test_join_gives_up_without_a_coordinator(server: redis.Redis) -> None:
    from chokepoints.errors import UserError

    with pytest.raises(UserError):
        join(server, "none", wait=0.1, poll=0.02)
