"""The ticker gives every session the time and never waits on one: a client that stops
reading, a session busy on another thread, or a bug in one session's tick does not hold
up the other sessions' timers."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.conversation.events import OutputEvent
from core.providers.base import Providers
from core.providers.catalog import ProviderCatalog
from core.runtime import engine_config
from core.session.model_workers import ModelWorkers
from core.session.pool import ConnectionPool, PoolEntry
from core.session.services import SessionServices
from core.session.session import Session
from core.session.ticker import TICK_S, Ticker
from core.settings import Settings
from monitoring.metrics.monitor import PerformanceMonitor
from tests.support.clock import ManualClock
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.session_harness import SentLog

STALL_S = 10.0  # how long the stuck client reads nothing
LATE_S = 0.05  # what the other sessions' timers may lose to it, beyond the tick itself


class StoppedReading:
    """A client that reads nothing: the first write blocks (as a socket's does once the
    peer's window is full) until ``release``."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.delivered: list[OutputEvent] = []

    def deliver(self, event: OutputEvent) -> None:
        self.release.wait()
        self.delivered.append(event)


class World:
    """Sessions of one process with real time: shared pools, a pool, a ticker."""

    def __init__(self, tick_s: float = TICK_S, clock: Callable[[], float] = time.monotonic) -> None:
        # A queue that a long answer fills (two sentences of 40 chunks) and a greeting does not.
        self.settings = Settings().replace(greeting_after_ms=0, vad_neural=False, thinking_cue_ms=0,
                                           output_queue_items=64)
        self.clock = clock
        self.workers = ModelWorkers(4, 8)
        providers = Providers(FakeSTT(), FakeLLM(), FakeTTS(chunks=40))
        self.catalog = ProviderCatalog(self.settings, None, providers)
        self.metrics = PerformanceMonitor()
        self.pool = ConnectionPool(10)
        self.sessions: list[Session] = []
        self.ticker = Ticker(self.pool, self.metrics, tick_s)

    def session(self, name: str, port: Any, **engine: Any) -> Session:
        config = dataclasses.replace(engine_config(self.settings, None), **engine)
        services = SessionServices(self.workers, self.catalog, self.metrics, config)
        session = Session(name, self.settings, services, port, clock=self.clock)
        entry = self.pool.admit(name, "10.0.0.1")
        assert isinstance(entry, PoolEntry)
        entry.session = session
        self.sessions.append(session)
        session.open()
        return session

    def close(self) -> None:
        self.ticker.stop()
        for session in self.sessions:
            session.close()
        self.workers.shutdown()


@pytest.fixture
def world() -> Iterator[World]:
    made = World()
    yield made
    made.close()


def test_a_client_that_stops_reading_does_not_delay_another_sessions_timers(world) -> None:
    stuck_port = StoppedReading()
    stuck = world.session("stuck", stuck_port)
    stuck.start_listening()
    stuck.text("tell me everything")  # a long answer, produced faster than it is sent
    greeted = SentLog()
    other = world.session("other", greeted, greeting_after_ms=1000)
    stalled_at = time.monotonic()
    world.ticker.longest_gap_s = 0.0
    other.start_listening()  # greeted by the ticker a second from now
    try:
        greeted.wait_event("reply_done", turn=1)
        greeting_at = greeted.arrived_at(greeted.events("state")[2])  # idle, listening, thinking
        stuck_outbox = stuck._outbox
        threading.Event().wait(max(0.0, STALL_S - (time.monotonic() - stalled_at)))  # the 10 s
        # The stuck session went on without waiting for its client: its queue is full,
        # the rest dropped and counted; nobody waited on it.
        assert stuck_outbox.queued == world.settings.output_queue_items and stuck_outbox.dropped_full > 0
        assert world.ticker.longest_gap_s <= TICK_S + LATE_S, world.ticker.longest_gap_s
        assert greeting_at - (stalled_at + 1.0) <= TICK_S + LATE_S
    finally:
        stuck_port.release.set()
    assert world.metrics.snapshot()["counters"]["outbox_full"] == stuck_outbox.dropped_full


def test_a_session_busy_on_another_thread_is_skipped_not_waited_for() -> None:
    clock = ManualClock()
    world = World(tick_s=3600.0, clock=clock)  # rounds only when the test runs one
    try:
        busy = world.session("busy", SentLog())
        greeted = SentLog()
        other = world.session("other", greeted, greeting_after_ms=1000)
        other.start_listening()
        clock.advance(1.0)  # the greeting is due
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with busy._lock:  # (another thread in the middle of the session's work)
                held.set()
                release.wait()

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait()
        round_done = threading.Event()
        ticking = threading.Thread(target=lambda: (world.ticker.tick_all(), round_done.set()))
        ticking.start()
        try:
            assert round_done.wait(5), "the round waited on the busy session"
            assert world.ticker.skipped_busy == 1
            greeted.wait_event("reply_done", turn=1)  # the other session got its tick
        finally:
            release.set()
            holder.join()
            ticking.join()
    finally:
        world.close()


def test_a_bug_in_one_sessions_tick_is_reported_and_the_others_still_tick() -> None:
    clock = ManualClock()
    world = World(tick_s=3600.0, clock=clock)
    try:
        broken_log, greeted = SentLog(), SentLog()
        broken = world.session("broken", broken_log)
        other = world.session("other", greeted, greeting_after_ms=1000)
        other.start_listening()
        clock.advance(1.0)

        def failing_tick(now: float) -> list[Any]:
            raise RuntimeError("a bug in the engine")

        broken._engine.tick = failing_tick  # type: ignore[method-assign]
        world.ticker.tick_all()
        world.ticker.tick_all()
        broken_log.wait_event("error", code="internal_error")
        greeted.wait_event("reply_done", turn=1)
        assert world.metrics.snapshot()["counters"]["error:internal"] == 2  # counted each time
        assert world.ticker.rounds == 2
    finally:
        world.close()

