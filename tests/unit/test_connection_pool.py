from __future__ import annotations

from core.connection_pool import ConnectionPool
from core.transport import origin_allowed


def test_pool_admits_up_to_its_limit_and_frees_places() -> None:
    pool = ConnectionPool(max_sessions=2)
    first = pool.admit("a", "127.0.0.1")
    second = pool.admit("b", "127.0.0.1")
    assert first is not None and second is not None
    assert pool.admit("c", "127.0.0.1") is None
    pool.remove("a")
    assert pool.admit("c", "127.0.0.1") is not None
    assert len(pool) == 2


def test_origin_must_be_the_same_host_or_allowed() -> None:
    assert origin_allowed("http://127.0.0.1:8050", "127.0.0.1:8050", ())
    assert not origin_allowed("http://evil.example", "127.0.0.1:8050", ())
    assert origin_allowed("https://app.example/", "127.0.0.1:8050", ("https://app.example",))
    assert origin_allowed(None, "127.0.0.1:8050", ())  # non-browser clients
