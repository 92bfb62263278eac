"""A phone call's outgoing audio: 20 ms µ-law frames sent at the pace they play.

Twilio plays what it is sent in order and buffers the rest, so audio sent faster than
real time would sit in Twilio's buffer: a barge-in's ``clear`` would drop it, but what
the caller heard, and how late marks come back, would both blur. The playout keeps
Twilio at most ``lead_ms`` ahead (enough to cover network jitter), sends marks between
frames where the call put them, and on ``clear`` drops what is queued and tells Twilio to
drop what it has, in that order: no frame queued before a clear leaves after it.

One thread per call, owned here: ``close`` ends it. It survives a bug in sending one
item (logged once, counted, the item skipped).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.bugs import BugLog
from core.metrics import Metrics, NoMetrics
from core.phone import twilio_messages
from core.phone.audio import PHONE_FRAME_MS

log = logging.getLogger(__name__)

DEFAULT_LEAD_MS = 80
MAX_QUEUED_ITEMS = 6_000  # 2 minutes of frames: far more than a spoken reply


@dataclass(frozen=True)
class _Frame:
    codes: bytes


@dataclass(frozen=True)
class _Mark:
    name: str


class PlayoutFull(Exception):
    """More audio queued than any reply needs: the item was not taken."""


class PhonePlayout:
    def __init__(self, send: Callable[[str], None], stream_sid: str, lead_ms: float = DEFAULT_LEAD_MS,
                 clock: Callable[[], float] = time.monotonic, max_items: int = MAX_QUEUED_ITEMS,
                 metrics: Metrics | None = None) -> None:
        self._send = send
        self._bugs = BugLog(metrics or NoMetrics(), f"playout-{stream_sid[-8:]}")
        self._stream_sid = stream_sid
        self._lead_s = lead_ms / 1000.0
        self._clock = clock
        self._max_items = max_items
        self._items: deque[_Frame | _Mark] = deque()
        self._changed = threading.Condition()
        self._send_lock = threading.Lock()  # a frame popped before a clear never follows it
        self._generation = 0  # counts clears
        self._buffered_until = 0.0  # when Twilio's buffer runs dry, if nothing more is sent
        self._closed = False
        self.frames_sent = 0
        self.send_failed = False
        self._thread = threading.Thread(target=self._run, name=f"playout-{stream_sid[-8:]}", daemon=True)
        self._thread.start()

    def add_frames(self, frames: list[bytes]) -> None:
        self._add([_Frame(codes) for codes in frames])

    def add_mark(self, name: str) -> None:
        """Sent after the frames added before it; Twilio echoes it once they have played."""
        self._add([_Mark(name)])

    def _add(self, items: list[_Frame | _Mark]) -> None:
        if not items:
            return
        with self._changed:
            if len(self._items) + len(items) > self._max_items:
                raise PlayoutFull(f"{len(self._items)} items waiting to be played")
            self._items.extend(items)
            self._changed.notify()

    def clear(self) -> int:
        """Drop every queued item and have Twilio drop what it buffered; returns how many
        queued items were dropped."""
        with self._changed:
            dropped = len(self._items)
            self._items.clear()
            self._generation += 1
            self._buffered_until = 0.0
            self._changed.notify()
        with self._send_lock:
            self._write(twilio_messages.clear_message(self._stream_sid))
        return dropped

    @property
    def queued(self) -> int:
        with self._changed:
            return len(self._items)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._items.clear()
            self._changed.notify()
        self._thread.join(timeout=2.0)

    def _next(self) -> tuple[_Frame | _Mark, int] | None:
        """The next item once it may go out (a frame: once Twilio is short of the lead)."""
        with self._changed:
            while True:
                if self._closed:
                    return None
                if self._items:
                    item = self._items[0]
                    now = self._clock()
                    ahead = self._buffered_until - now
                    if isinstance(item, _Mark) or ahead <= self._lead_s:
                        self._items.popleft()
                        if isinstance(item, _Frame):
                            self._buffered_until = max(self._buffered_until, now) + PHONE_FRAME_MS / 1000.0
                        return item, self._generation
                    self._changed.wait(ahead - self._lead_s)
                else:
                    self._changed.wait()

    def _run(self) -> None:
        while (popped := self._next()) is not None:
            try:
                self._send_item(*popped)
            except Exception as exc:  # noqa: BLE001 - one bad item must not silence the call
                self._bugs.report(exc)

    def _send_item(self, item: _Frame | _Mark, generation: int) -> None:
        with self._send_lock:
            if generation != self._generation:
                return  # cleared while it was on its way out
            if isinstance(item, _Frame):
                self._write(twilio_messages.media_message(self._stream_sid, item.codes))
                self.frames_sent += 1
            else:
                self._write(twilio_messages.mark_message(self._stream_sid, item.name))

    def _write(self, message: str) -> None:
        if self.send_failed:
            return
        try:
            self._send(message)
        except (ConnectionError, OSError) as exc:
            self.send_failed = True  # the call's socket is gone; its receive loop ends the call
            log.info("phone playout: send failed (%s)", type(exc).__name__)
