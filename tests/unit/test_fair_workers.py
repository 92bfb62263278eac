"""The shared model pools: every session gets its turn, none may take them all."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from core.session.workers import FairExecutor, Overloaded
from tests.support.wait import wait_until


class Jobs:
    """Jobs that record the order they ran in; the first may be held until released."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def holding(self, name: str) -> Callable[[], str]:
        def job() -> str:
            self.ran.append(name)
            self.started.set()
            self.release.wait(10)
            return name
        return job

    def quick(self, name: str) -> Callable[[], str]:
        def job() -> str:
            self.ran.append(name)
            return name
        return job


@pytest.fixture
def pool() -> Iterator[FairExecutor]:
    executor = FairExecutor(workers=1, backlog=8, name="test", per_owner=3)
    yield executor
    executor.shutdown()


def test_a_waiting_session_goes_before_the_one_just_served(pool) -> None:
    jobs = Jobs()
    first = pool.submit("busy", jobs.holding("busy-1"))
    jobs.started.wait(5)
    later = [pool.submit("busy", jobs.quick("busy-2")), pool.submit("busy", jobs.quick("busy-3")),
             pool.submit("quiet", jobs.quick("quiet-1"))]
    jobs.release.set()
    assert [f.result(5) for f in (first, *later)]
    assert jobs.ran == ["busy-1", "quiet-1", "busy-2", "busy-3"]  # a FIFO ran quiet-1 last


def test_one_session_gets_only_its_share_and_the_others_still_get_in(pool) -> None:
    jobs = Jobs()
    pool.submit("busy", jobs.holding("busy-1"))
    jobs.started.wait(5)
    pool.submit("busy", jobs.quick("busy-2"))
    pool.submit("busy", jobs.quick("busy-3"))
    with pytest.raises(Overloaded, match="this session"):
        pool.submit("busy", jobs.quick("busy-4"))
    quiet = pool.submit("quiet", jobs.quick("quiet-1"))
    jobs.release.set()
    assert quiet.result(5) == "quiet-1"
    wait_until(lambda: pool.in_flight("busy") == 0, 5, "the busy session's jobs to finish")


def test_the_whole_pool_is_bounded_too() -> None:
    pool = FairExecutor(workers=1, backlog=1, name="small", per_owner=3)
    jobs = Jobs()
    try:
        pool.submit("a", jobs.holding("a-1"))
        pool.submit("b", jobs.quick("b-1"))
        with pytest.raises(Overloaded, match="backlog full"):
            pool.submit("c", jobs.quick("c-1"))
    finally:
        jobs.release.set()
        pool.shutdown()


def test_a_job_cancelled_while_waiting_never_runs_and_frees_its_place(pool) -> None:
    jobs = Jobs()
    pool.submit("s", jobs.holding("held"))
    jobs.started.wait(5)
    waiting = pool.submit("s", jobs.quick("cancelled"))
    assert waiting.cancel()
    jobs.release.set()
    wait_until(lambda: pool.in_flight("s") == 0, 5, "the pool to pass the cancelled job")
    assert jobs.ran == ["held"]


def test_a_failing_job_hands_its_error_to_its_future(pool) -> None:
    def broken() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        pool.submit("s", broken).result(5)
    assert pool.submit("s", lambda: 7).result(5) == 7


def test_shutdown_cancels_what_waits_and_joins_the_workers() -> None:
    pool = FairExecutor(workers=1, backlog=4, name="closing", per_owner=3)
    jobs = Jobs()
    pool.submit("s", jobs.holding("held"))
    jobs.started.wait(5)
    waiting = pool.submit("s", jobs.quick("never"))
    closer = threading.Thread(target=pool.shutdown)
    closer.start()
    wait_until(lambda: waiting.cancelled(), 5, "the waiting job to be cancelled")
    jobs.release.set()
    closer.join(5)
    assert not closer.is_alive() and jobs.ran == ["held"]
    with pytest.raises(RuntimeError):
        pool.submit("s", jobs.quick("after"))
