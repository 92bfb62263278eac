"""Two server processes behind Debian's HAProxy sharing Debian's Redis (simulated
providers), for the cluster tests at socket level and in the browser."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from collections.abc import Iterator

import pytest

from monitoring.servers.haproxy import Haproxy
from monitoring.servers.redis_server import RedisServer
from monitoring.servers.server_process import ServerProcess, free_port
from monitoring.servers.simulated import SIMULATED_ENV

TOKEN = "cluster-test-admin-token"


@pytest.fixture
def cluster(cluster_services: tuple[Haproxy, list[ServerProcess], RedisServer]) -> tuple[
        Haproxy, list[ServerProcess]]:
    balancer, workers, _ = cluster_services
    return balancer, workers


@pytest.fixture
def cluster_services() -> Iterator[tuple[Haproxy, list[ServerProcess], RedisServer]]:
    """The balancer, the two processes, and the Redis they share."""
    with running(2) as started:
        yield started


@pytest.fixture
def two_machines() -> Iterator[tuple[Haproxy, list[list[ServerProcess]]]]:
    """Two "machines" on this one: two groups of two processes, each process on its own
    port, all behind one balancer and one Redis."""
    with running(4) as (balancer, workers, _):
        yield balancer, [workers[:2], workers[2:]]


@contextlib.contextmanager
def running(count: int) -> Iterator[tuple[Haproxy, list[ServerProcess], RedisServer]]:
    with RedisServer() as redis_server:
        env = {**SIMULATED_ENV, "VOICECHAT_REDIS_URL": redis_server.url, "VOICECHAT_PUBLIC_ACCESS": "1",
               "VOICECHAT_TRUSTED_PROXIES": "127.0.0.1", "VOICECHAT_ADMIN_TOKEN": TOKEN}
        workers: list[ServerProcess] = []
        try:
            workers.extend(ServerProcess(env=env, port=free_port()).start() for _ in range(count))
            balancer = Haproxy([w.port for w in workers]).start()
            try:
                yield balancer, workers, redis_server
            finally:
                balancer.stop()
        finally:
            for worker in workers:
                worker.stop()


def active_sessions(worker: ServerProcess) -> int:
    request = urllib.request.Request(worker.http_url + "/metrics.json",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return int(json.load(answer)["pool"]["active"])


def copied_to_redis(url: str, session_id: str, messages: int) -> None:
    """Until the copy the last reply left in Redis is there (it is written off the
    session's threads, a moment after the reply)."""
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        copies = [client.get(key) for key in client.keys(f"voicechat:parked:{session_id}:*")]
        if any(c and len(json.loads(c)["messages"]) == messages for c in copies):
            break
        assert time.monotonic() < deadline, "the conversation was never copied to Redis"
        time.sleep(0.02)  # polling Redis, which tells nobody
    client.close()
