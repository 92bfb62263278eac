"""The one Redis client of a process (``VOICECHAT_REDIS_URL``), shared by the parked
conversations, the limits and budgets across processes, the leases and the process
registry: one connection pool, and every call bounded (a second to connect, a second to
answer), since nothing in a conversation may wait longer on Redis. A call that finds its
pooled connection broken (Redis restarted meanwhile) is tried once more on a new one
after a short pause; a call that timed out is not (it has waited long enough)."""

from __future__ import annotations

from typing import Any

TIMEOUT_S = 1.0
RETRIES = 1


def connect(url: str) -> Any:
    """A ``redis.Redis`` for ``url`` (connections are made when first used)."""
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    retry = Retry(ExponentialBackoff(cap=0.1, base=0.02), RETRIES, supported_errors=(redis.ConnectionError,))
    return redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S,
                                health_check_interval=30, retry=retry)


def errors() -> tuple[type[Exception], ...]:
    """What a Redis call raises when Redis cannot answer."""
    import redis

    return (redis.RedisError,)
