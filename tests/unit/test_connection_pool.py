from __future__ import annotations

from core.session.pool import ConnectionPool, PoolEntry, Refused
from tests.support.clock import ManualClock


def admitted(pool: ConnectionPool, sid: str, address: str = "10.0.0.1", owner: object = None) -> PoolEntry:
    entry = pool.admit(sid, address, owner=owner)
    assert isinstance(entry, PoolEntry), entry
    return entry


def test_pool_admits_up_to_its_limit_and_frees_places() -> None:
    pool = ConnectionPool(max_sessions=2)
    admitted(pool, "a")
    admitted(pool, "b")
    refused = pool.admit("c", "10.0.0.1")
    assert isinstance(refused, Refused) and refused.code == "server_full"
    pool.remove("a")
    admitted(pool, "c")
    assert len(pool) == 2


def test_one_address_cannot_take_every_place() -> None:
    pool = ConnectionPool(max_sessions=10, max_per_address=2)
    admitted(pool, "a", "10.0.0.1")
    admitted(pool, "b", "10.0.0.1")
    refused = pool.admit("c", "10.0.0.1")
    assert isinstance(refused, Refused) and refused.code == "address_limit"
    admitted(pool, "d", "10.0.0.2")  # another address still gets in
    stats = pool.stats()
    assert (stats.active, stats.addresses, stats.busiest_address_sessions) == (3, 2, 2)


def test_a_parked_session_is_resumed_with_its_token_only(make_harness) -> None:
    clock = ManualClock(100.0)
    pool = ConnectionPool(max_sessions=4, resume_window_s=60, clock=clock)
    old_owner, new_owner = object(), object()
    entry = admitted(pool, "conv", owner=old_owner)
    session = entry.session = make_harness().session
    assert pool.park("conv", old_owner) == []
    assert pool.stats().parked == 1 and len(pool) == 0
    admitted(pool, "fresh", owner=new_owner)
    assert pool.claim("conv", "forged-" + session.resume_token, "fresh", new_owner) is None
    assert pool.claim("unknown", session.resume_token, "fresh", new_owner) is None
    back = pool.claim("conv", session.resume_token, "fresh", new_owner)
    assert back is entry and back.session is session
    assert pool.owned_by("conv", new_owner) and not pool.owned_by("conv", old_owner)
    assert [s.id for s in pool.sessions()] == [session.id]  # the fresh one gave its place
    assert pool.park("conv", old_owner) == []  # the old connection no longer decides


def test_a_parked_session_expires_after_the_window(make_harness) -> None:
    clock = ManualClock(100.0)
    pool = ConnectionPool(max_sessions=4, resume_window_s=60, clock=clock)
    owner = object()
    entry = admitted(pool, "conv", owner=owner)
    session = entry.session = make_harness().session
    pool.park("conv", owner)
    clock.now += 59
    assert pool.expire() == []
    clock.now += 2
    assert pool.expire() == [session]
    admitted(pool, "fresh", owner=owner)
    assert pool.claim("conv", session.resume_token, "fresh", owner) is None


def test_parked_sessions_are_bounded_oldest_closed_first(make_harness) -> None:
    pool = ConnectionPool(max_sessions=2, resume_window_s=60, clock=ManualClock(100.0))
    sessions = []
    for sid in ("a", "b", "c"):
        entry = admitted(pool, sid, owner=sid)
        entry.session = make_harness().session
        sessions.append(entry.session)
        evicted = pool.park(sid, sid)
    assert evicted == [sessions[0]] and pool.stats().parked == 2

