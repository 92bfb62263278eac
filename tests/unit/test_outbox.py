"""A session's outbox: bounded, never blocks the caller, survives a bad item, drops the
audio of a turn that is no longer current, runs a gated event's step first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from core.conversation.events import (
    ErrorNotice,
    OutputEvent,
    ReplyAudio,
    ReplyDone,
    Transcript,
    UserSpeechStarted,
)
from core.session.outbox import MAX_BROKEN_IN_A_ROW, Outbox
from monitoring.metrics.monitor import PerformanceMonitor
from tests.support.wait import wait_until

AUDIO = b"\x01\x00" * 160


class Port:
    """Keeps what it is given; may be held (a client that reads nothing) or fail."""

    def __init__(self) -> None:
        self.delivered: list[OutputEvent] = []
        self.open = threading.Event()
        self.open.set()
        self.fail_on: Callable[[OutputEvent], bool] = lambda _event: False
        self._cond = threading.Condition()

    def deliver(self, event: OutputEvent) -> None:
        self.open.wait()
        if self.fail_on(event):
            raise RuntimeError("a bug in serializing this event")
        with self._cond:
            self.delivered.append(event)
            self._cond.notify_all()

    def wait_for(self, count: int) -> None:
        wait_until(lambda: len(self.delivered) >= count, 5, f"{count} events", self._cond)


@pytest.fixture
def made() -> Iterator[list[Outbox]]:
    outboxes: list[Outbox] = []
    yield outboxes
    for outbox in outboxes:
        outbox.close()


def outbox(made: list[Outbox], port: Port, capacity: int = 8,
           current: Callable[[int], bool] = lambda _t: True,
           on_broken: Callable[[], None] | None = None) -> tuple[Outbox, PerformanceMonitor]:
    metrics = PerformanceMonitor()
    box = Outbox(port, capacity, current, "test", metrics, on_broken)
    made.append(box)
    return box, metrics


def test_a_full_queue_drops_and_counts_without_ever_waiting(made) -> None:
    port = Port()
    port.open.clear()  # the client stopped reading
    box, metrics = outbox(made, port, capacity=4)
    took: list[bool] = []
    putting = threading.Thread(target=lambda: took.extend(box.put(UserSpeechStarted()) for _ in range(10)))
    putting.start()
    putting.join(timeout=5)
    assert not putting.is_alive(), "put waited for room"
    # One item is with the blocked port, four wait in the queue, the rest are dropped.
    assert took.count(True) in (4, 5) and took[-1] is False
    assert box.dropped_full == took.count(False) == metrics.snapshot()["counters"]["outbox_full"]
    port.open.set()
    port.wait_for(took.count(True))


def test_a_bug_in_one_item_is_reported_and_the_next_items_go_out(made) -> None:
    port = Port()
    port.fail_on = lambda event: isinstance(event, Transcript)
    box, metrics = outbox(made, port)
    box.put(UserSpeechStarted())
    box.put(Transcript(1, "what breaks the serializer"))
    box.put(ReplyDone(1, "Still here.", {}))
    port.wait_for(3)
    assert [type(e) for e in port.delivered] == [UserSpeechStarted, ErrorNotice, ReplyDone]
    notice = port.delivered[1]
    assert isinstance(notice, ErrorNotice) and notice.code == "internal_error" and notice.retryable
    assert metrics.snapshot()["counters"]["error:internal"] == 1


def test_a_port_that_keeps_failing_ends_the_connection(made) -> None:
    port = Port()
    port.fail_on = lambda event: not isinstance(event, ErrorNotice)  # each item, not the notices
    broken = threading.Event()
    box, metrics = outbox(made, port, on_broken=broken.set)
    for turn in range(MAX_BROKEN_IN_A_ROW):
        box.put(Transcript(turn, "again"))
    assert broken.wait(5)
    assert box.send_failed and metrics.snapshot()["counters"]["error:internal"] == MAX_BROKEN_IN_A_ROW
    assert len(port.delivered) == MAX_BROKEN_IN_A_ROW - 1  # told twice, then the connection ends


def test_a_port_that_cannot_even_report_ends_the_connection_at_once(made) -> None:
    port = Port()
    port.fail_on = lambda event: True
    broken = threading.Event()
    box, _ = outbox(made, port, on_broken=broken.set)
    box.put(Transcript(1, "breaks"))
    assert broken.wait(5) and box.send_failed and port.delivered == []


def test_audio_of_a_turn_no_longer_current_is_dropped_when_it_would_be_sent(made) -> None:
    port = Port()
    current = {2}
    box, _ = outbox(made, port, current=lambda turn: turn in current)
    box.put(ReplyAudio(1, AUDIO, 16_000))
    box.put(ReplyAudio(2, AUDIO, 16_000))
    box.put(ReplyDone(1, "(events of any turn still go)", {}))
    port.wait_for(2)
    assert [(type(e).__name__, getattr(e, "turn", None)) for e in port.delivered] == [
        ("ReplyAudio", 2), ("ReplyDone", 1)]
    assert box.dropped_stale == 1


def test_a_gated_event_runs_its_step_first_on_the_send_thread(made) -> None:
    port = Port()
    box, _ = outbox(made, port)
    seen: list[tuple[str, int]] = []
    box.put(ReplyDone(1, "Stored first.", {}),
            before=lambda: seen.append((threading.current_thread().name, len(port.delivered))))
    port.wait_for(1)
    assert seen == [("outbox-test", 0)]


def test_close_sends_what_is_queued_and_ends_the_thread(made) -> None:
    port = Port()
    box, _ = outbox(made, port)
    for _ in range(5):
        box.put(UserSpeechStarted())
    box.close()
    assert len(port.delivered) == 5
    assert not [t for t in threading.enumerate() if t.name == "outbox-test"]
    assert box.put(UserSpeechStarted()) is False
