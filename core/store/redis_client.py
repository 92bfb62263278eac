"""The one Redis client of a process (``VOICECHAT_REDIS_URL``), shared by the parked
conversations, the limits across processes and the process registry: one connection
pool, and every call bounded (a second to connect, a second to answer), since nothing
in a conversation may wait longer on Redis."""

from __future__ import annotations

from typing import Any

TIMEOUT_S = 1.0


def connect(url: str) -> Any:
    """A ``redis.Redis`` for ``url`` (connections are made when first used)."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S,
                                health_check_interval=30)


def errors() -> tuple[type[Exception], ...]:
    """What a Redis call raises when Redis cannot answer."""
    import redis

    return (redis.RedisError,)
