"""A store that fails is never taken for one that wrote: a failed write is not
"committed", the client is told when its turn was not saved (failed, still pending, or
not even taken), and the readiness check sees it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from core.providers.base import Providers
from core.settings import Settings
from core.store.conversations import ConversationStore, StoreFull, Written
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.session_harness import Harness


def break_the_table(store: ConversationStore) -> None:
    """What a damaged or replaced database file does to the writer: its inserts fail."""
    with closing(sqlite3.connect(store.path)) as other:
        other.execute("DROP TABLE turns")
        other.commit()


def test_a_failed_write_is_failed_not_committed(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "turns.db")
    try:
        good = store.record("s1", 1, "user", "hello")
        assert store.outcome(good, 5) is Written.COMMITTED
        break_the_table(store)
        bad = store.record("s1", 2, "user", "lost")
        assert store.outcome(bad, 5) is Written.FAILED and not store.wait_written(bad, 5)
        assert store.write_errors == 1 and not store.flush()
        assert not store.healthy(since=0.0)
        assert store.outcome(good, 0) is Written.COMMITTED  # earlier records are not tainted
    finally:
        store.close()


@contextmanager
def one_answered_turn(store: ConversationStore) -> Iterator[Harness]:
    """A session on ``store`` that has asked one typed question and had it answered (the
    conversation goes on, whatever the store did)."""
    settings = Settings().replace(greeting_after_ms=0, vad_neural=False)
    h = Harness(settings, Providers(FakeSTT(), FakeLLM(), FakeTTS()), store=store)
    h.session.open()
    try:
        h.send(type="start")
        h.send(type="text", text="what is the capital of france")
        h.sent.wait_event("reply_done", turn=1)
        yield h
    finally:
        h.close()
        store.close()


def test_the_client_is_told_when_its_turn_was_not_saved(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "turns.db")
    break_the_table(store)
    with one_answered_turn(store) as h:
        failed = h.sent.wait_event("error", code="store_failed")
        assert "could not save" in failed["message"]
        assert h.monitor.snapshot()["counters"]["store_failed"] >= 1


class FullStore(ConversationStore):
    """A store whose writer is far behind: it takes no record (the real one's StoreFull)."""

    def record(self, *args: object, **kwargs: object) -> int:
        raise StoreFull("10000 records waiting for the disk")


def test_a_store_too_far_behind_to_take_a_turn_says_so(tmp_path: Path) -> None:
    with one_answered_turn(FullStore(tmp_path / "turns.db")) as h:
        full = h.sent.wait_event("error", code="store_full")
        assert full["retryable"] is True and full["turn"] == 1


class BehindStore(ConversationStore):
    """A store whose writes take longer than the gate waits (the real one's PENDING)."""

    def outcome(self, ticket: int, timeout_s: float) -> Written:
        return Written.PENDING


def test_a_turn_shown_before_it_is_written_is_not_passed_off_as_saved(tmp_path: Path) -> None:
    with one_answered_turn(BehindStore(tmp_path / "turns.db")) as h:
        assert h.sent.wait_event("error", code="store_slow")["retryable"] is True
        assert h.monitor.snapshot()["counters"]["store_slow"] >= 1
