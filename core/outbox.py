"""A session's bounded send queue and the one thread that writes to its socket.

Every message of a session goes through here, so they leave in order from one thread
(the socket's own thread also writes: ``core/ws_single_thread.py`` locks the writes).
Overflow policy: producers wait up to ``put_timeout_s`` for room (reply
audio is produced faster than real time, so this is back-pressure on TTS); past that
the item is dropped and counted. Reply audio whose turn is no longer current is
dropped at the moment it would be sent, wherever it was queued. An event may carry a
``before`` step, run on the outbox thread just before it is sent (the conversation store's
commit of a finalized turn: the client never sees a turn the store could still lose).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Audio:
    turn: int
    payload: bytes


@dataclass(frozen=True)
class _Gated:
    payload: str
    before: Callable[[], object]


_CLOSE = object()


class Outbox:
    def __init__(self, send: Callable[[str | bytes], None], capacity: int,
                 is_current: Callable[[int], bool], name: str, put_timeout_s: float = 5.0) -> None:
        self._send = send
        self._queue: queue.Queue[object] = queue.Queue(maxsize=capacity)
        self._is_current = is_current
        self._put_timeout_s = put_timeout_s
        self._closed = threading.Event()
        self.sent_messages = 0
        self.dropped_stale = 0
        self.dropped_full = 0
        self.send_failed = False
        self._thread = threading.Thread(target=self._run, name=f"outbox-{name}", daemon=True)
        self._thread.start()

    def put_event(self, event: dict[str, Any], before: Callable[[], object] | None = None) -> bool:
        payload = json.dumps(event, separators=(",", ":"))
        return self._put(payload if before is None else _Gated(payload, before))

    def put_audio(self, turn: int, payload: bytes) -> bool:
        return self._put(_Audio(turn, payload))

    def _put(self, item: object) -> bool:
        if self._closed.is_set():
            return False
        try:
            self._queue.put(item, timeout=self._put_timeout_s)
            return True
        except queue.Full:
            self.dropped_full += 1
            log.warning("outbox full, message dropped")
            return False

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
        while True:
            item = self._queue.get()
            if item is _CLOSE:
                return
            if self.send_failed:
                continue  # the socket is gone; keep draining until closed
            if isinstance(item, _Audio):
                if not self._is_current(item.turn):
                    self.dropped_stale += 1
                    continue
                payload: str | bytes = item.payload
            elif isinstance(item, _Gated):
                item.before()
                payload = item.payload
            else:
                payload = item  # type: ignore[assignment]
            try:
                self._send(payload)
                self.sent_messages += 1
            except (ConnectionError, OSError) as exc:
                self.send_failed = True
                log.info("send failed, socket closed: %s", type(exc).__name__)
