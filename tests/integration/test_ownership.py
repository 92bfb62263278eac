"""One process at a time serves a conversation: leases in a real Redis (Debian's
redis-server, started by the test), claimed by two ``SessionOwnership`` objects standing
for two processes."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from core.store import ownership
from core.store.ownership import OWNER, OwnedElsewhere, OwnershipUnavailable, SessionOwnership
from monitoring.servers.server_process import free_port


class Connection:
    """Stands for a connection that holds a session: counts the times it is told to go."""

    def __init__(self) -> None:
        self.told = threading.Event()

    def let_go(self) -> None:
        self.told.set()


def owner_of(client: redis.Redis, session_id: str) -> str | None:
    value = client.get(OWNER + session_id)
    return value.decode() if value else None


def test_a_claim_asks_the_live_owner_to_let_go_and_takes_the_lease(redis_client) -> None:
    first, second = SessionOwnership(redis_client, "process-a"), SessionOwnership(redis_client, "process-b")
    try:
        here, there = Connection(), Connection()
        first.claim("s1", here, here.let_go)
        assert owner_of(redis_client, "s1") == "process-a"
        second.claim("s1", there, there.let_go)  # (raises OwnedElsewhere if never let go)
        assert here.told.is_set() and not there.told.is_set()
        assert owner_of(redis_client, "s1") == "process-b"
        assert first.let_go_count == 1
    finally:
        first.close()
        second.close()


def test_a_dead_owner_is_passed_over_once_its_alive_key_lapses(redis_client) -> None:
    dead, second = SessionOwnership(redis_client, "process-dead"), SessionOwnership(redis_client, "process-b")
    try:
        gone = Connection()
        dead.claim("s2", gone, gone.let_go)
        dead._stop.set()  # killed: no more beats, nothing released
        dead._thread.join()
        started = time.monotonic()
        second.claim("s2", Connection(), lambda: None)
        waited = time.monotonic() - started
        assert owner_of(redis_client, "s2") == "process-b" and not gone.told.is_set()
        assert waited < ownership.LEASE_S / 2  # passed over with its alive key, not its lease
    finally:
        second.close()


def test_a_live_owner_that_never_lets_go_refuses_the_claim(redis_client) -> None:
    redis_client.set(ownership.ALIVE + "process-stuck", "1", px=60_000)  # alive, but reads no requests
    redis_client.set(OWNER + "s3", "process-stuck", px=60_000)
    second = SessionOwnership(redis_client, "process-b")
    try:
        with pytest.raises(OwnedElsewhere):
            second.claim("s3", Connection(), lambda: None)
        assert owner_of(redis_client, "s3") == "process-stuck"
    finally:
        second.close()


def test_an_owner_whose_lease_went_elsewhere_lets_go_at_renewal(redis_client) -> None:
    first = SessionOwnership(redis_client, "process-a")
    try:
        here = Connection()
        first.claim("s4", here, here.let_go)
        redis_client.set(OWNER + "s4", "process-b")  # taken while this process was cut off from Redis
        first._renew_all()
        assert here.told.is_set() and owner_of(redis_client, "s4") == "process-b"
    finally:
        first.close()


def test_only_the_holder_that_claimed_last_releases_the_lease(redis_client) -> None:
    first = SessionOwnership(redis_client, "process-a")
    try:
        old, new = Connection(), Connection()
        first.claim("s5", old, old.let_go)
        first.claim("s5", new, new.let_go)  # resumed on another connection of the same process
        first.release("s5", old)
        assert owner_of(redis_client, "s5") == "process-a"
        first.release("s5", new)
        assert owner_of(redis_client, "s5") is None
    finally:
        first.close()


def test_a_stopping_process_gives_its_leases_back_at_once(redis_client) -> None:
    first = SessionOwnership(redis_client, "process-a")
    first.claim("s6", Connection(), lambda: None)
    first.close()
    assert owner_of(redis_client, "s6") is None and not redis_client.exists(ownership.ALIVE + "process-a")


def test_redis_out_of_reach_is_a_typed_error() -> None:
    unreachable = redis.Redis(port=free_port(), socket_timeout=0.2, socket_connect_timeout=0.2)
    owner = SessionOwnership(unreachable, "process-a")
    try:
        with pytest.raises(OwnershipUnavailable):
            owner.claim("s7", Connection(), lambda: None)
    finally:
        owner.close()


def test_the_shared_client_reconnects_once_after_redis_restarted(redis_server) -> None:
    """After a restart the pooled connection is replaced without an error; a call whose
    connection breaks is tried once more (connection errors only: a call that timed out
    has waited long enough)."""
    from core.store import redis_client

    shared = redis_client.connect(redis_server.url)
    try:
        assert shared.ping()
        redis_server.kill()
        redis_server.start()
        assert shared.ping()
        retry = shared.connection_pool.get_connection().retry
        assert retry._retries == redis_client.RETRIES
        assert retry._supported_errors == (redis.ConnectionError,)
    finally:
        shared.close()
