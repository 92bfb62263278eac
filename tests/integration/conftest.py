from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.providers.base import Providers
from core.providers.registry import build_providers
from core.providers.remote.async_runner import AsyncRunner
from core.settings import Settings
from monitoring.servers.redis_server import RedisServer


@pytest.fixture(scope="session")
def real_providers() -> Iterator[Providers]:
    runner = AsyncRunner()
    providers = build_providers(Settings(), runner)
    providers.warm_up()
    yield providers
    providers.close()
    runner.stop()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """Debian's redis-server on 127.0.0.1, in a temporary folder, for one test module."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[Any]:
    """A client of the module's Redis, emptied for each test."""
    import redis

    connection = redis.Redis.from_url(redis_server.url, socket_timeout=1)
    connection.flushall()
    yield connection
    connection.close()
