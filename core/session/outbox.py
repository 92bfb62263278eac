"""A session's bounded send queue and the one thread that hands its events to the
transport (the ``OutputPort``), so they leave in order.

``put`` never waits: it runs under the session's lock, and a session that waited there
for a slow client would hold up its own timers and every thread that reports to it.
Overflow policy: the queue holds ``capacity`` items, many times a spoken reply (at
most a few sentences in 200 ms chunks); it fills only when the client has stopped
reading, and then new items are dropped and counted (``outbox_full``) while the
socket's write timeout cuts the peer (the session is then parked for a resume).
Reply audio whose turn is no longer current is dropped at the moment it would be sent,
wherever it was queued. An item may carry a ``before`` step, run on this thread just
before it is sent (the conversation store's commit of a finalized turn: the client
never sees a turn the store could still lose).

The thread survives a bug in one item: it is logged once, counted, the client is told
``internal_error`` and the next item goes out. A port that fails that way
``MAX_BROKEN_IN_A_ROW`` times in a row is broken: ``on_broken`` ends the connection.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from core.bugs import INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, BugLog
from core.conversation.events import ErrorNotice, OutputEvent, ReplyAudio
from core.metrics import Metrics
from core.session.port import OutputPort

log = logging.getLogger(__name__)

MAX_BROKEN_IN_A_ROW = 3


@dataclass(frozen=True)
class _Gated:
    event: OutputEvent
    before: Callable[[], object]


_CLOSE = object()


class Outbox:
    def __init__(self, port: OutputPort, capacity: int, is_current: Callable[[int], bool], name: str,
                 metrics: Metrics, on_broken: Callable[[], None] | None = None) -> None:
        self._port = port
        self._queue: queue.Queue[object] = queue.Queue(maxsize=capacity)
        self._is_current = is_current
        self._metrics = metrics
        self._on_broken = on_broken
        self._bugs = BugLog(metrics, f"outbox-{name}")
        self._closed = threading.Event()
        self.sent_messages = 0
        self.dropped_stale = 0
        self.dropped_full = 0
        self.send_failed = False
        self._thread = threading.Thread(target=self._run, name=f"outbox-{name}", daemon=True)
        self._thread.start()

    def put(self, event: OutputEvent, before: Callable[[], object] | None = None) -> bool:
        """Queue ``event`` without waiting; False when it was not taken (closed or full)."""
        if self._closed.is_set():
            return False
        try:
            self._queue.put_nowait(event if before is None else _Gated(event, before))
            return True
        except queue.Full:
            self.dropped_full += 1
            self._metrics.count("outbox_full")
            if self.dropped_full == 1 or self.dropped_full % 100 == 0:
                log.warning("outbox full (the client is not reading): %d dropped", self.dropped_full)
            return False

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def close(self, timeout_s: float = 2.0) -> None:
        """Send what is queued (within the timeout), then stop the thread."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self._queue.put(_CLOSE, timeout=timeout_s)
        except queue.Full:
            self._drain()
            self._queue.put_nowait(_CLOSE)
        self._thread.join(timeout=timeout_s + 1.0)

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _run(self) -> None:
        broken_in_a_row = 0
        while (item := self._queue.get()) is not _CLOSE:
            if self.send_failed:
                continue  # the socket is gone; keep draining until closed
            try:
                self._send(item)
                broken_in_a_row = 0
            except (ConnectionError, OSError) as exc:
                self.send_failed = True
                log.info("send failed, socket closed: %s", type(exc).__name__)
            except Exception as exc:  # noqa: BLE001 - one bad item must not silence the session
                broken_in_a_row += 1
                self._bugs.report(exc)
                if broken_in_a_row >= MAX_BROKEN_IN_A_ROW:
                    self._give_up()
                else:
                    self._tell_client()

    def _send(self, item: object) -> None:
        after = None
        if isinstance(item, _Gated):
            after = item.before()  # (the store's commit; may return a notice to send after)
            event = item.event
        else:
            assert isinstance(item, OutputEvent)
            event = item
        if isinstance(event, ReplyAudio) and not self._is_current(event.turn):
            self.dropped_stale += 1
            return
        self._port.deliver(event)
        self.sent_messages += 1
        if isinstance(after, OutputEvent):
            self._port.deliver(after)
            self.sent_messages += 1

    def _tell_client(self) -> None:
        try:
            self._port.deliver(ErrorNotice(INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, retryable=True))
        except Exception as exc:  # noqa: BLE001 - the port itself is failing: count it, try no more
            self._bugs.report(exc)
            self._give_up()

    def _give_up(self) -> None:
        """The port keeps failing: stop sending and let the transport end the connection."""
        self.send_failed = True
        log.error("outbox: the transport keeps failing; ending the connection")
        if self._on_broken is not None:
            try:
                self._on_broken()
            except Exception as exc:  # noqa: BLE001 - nothing more can be done from here
                self._bugs.report(exc)
