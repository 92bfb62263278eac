"""One session's conversation with a speech-to-speech API over a WebSocket.

Two threads, both owned and joined on ``close``: the keeper connects (and reconnects
after a drop, with backoff, starting the new session from a summary of the
conversation), sends what the session queued (a bounded queue: a full one refuses the
turn at once), pings, and gives up answers that went quiet; the receiver reads the
socket and hands each message to the ``Exchange``. A message that cannot be read, or a
listener that raises, is logged and counted and the loop goes on: no one message can
end it (a field note's phone agent went silent for good that way). The listener is
called outside this object's lock, so a session may cancel from within it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import websocket

from core.audio.resample import StreamResampler
from core.providers.base import Message, ProviderError
from core.providers.speech.base import Listener, SpeechConversation, SpeechEvent, SpeechState
from core.providers.speech.common import Malformed
from core.providers.speech.dialect import Dialect, Leaving, Opened, Resumable
from core.providers.speech.exchange import Exchange

log = logging.getLogger(__name__)
INPUT_RATE = 16_000  # the session's audio


@dataclass(frozen=True)
class SpeechTimings:
    connect_timeout_s: float = 5.0
    response_timeout_s: float = 3.0  # an answer quiet this long is given up
    ping_every_s: float = 5.0
    dead_after_s: float = 15.0  # nothing from the socket (not even a pong) this long: reconnect
    backoff_s: tuple[float, ...] = (0.1, 0.3, 0.7, 1.5, 3.0)  # waits between tries; the last repeats
    send_queue: int = 256  # messages


class LiveConversation(SpeechConversation):
    def __init__(self, dialect: Dialect, instructions: str, history: tuple[Message, ...],
                 listener: Listener, timings: SpeechTimings = SpeechTimings(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._dialect = dialect
        self._instructions = instructions
        self._listener = listener
        self._timings = timings
        self._clock = clock
        self._lock = threading.Lock()
        self._exchange = Exchange(dialect, timings.response_timeout_s)
        self._exchange.history.extend(history)
        self._outgoing: queue.Queue[str] = queue.Queue(maxsize=timings.send_queue)
        self._closing = threading.Event()
        self._socket: websocket.WebSocket | None = None
        self._receiver: threading.Thread | None = None
        self._lost: str | None = None  # why the socket was lost (set by the receiver)
        self._state = "connecting"
        self._ready = False
        self._reconnects = 0
        self._failures = 0  # tries in a row that did not connect
        self._handle: str | None = None
        self._leaving = False
        self._heard_at = self._pinged_at = self._opened_at = 0.0
        self._keeper = threading.Thread(target=self._keep, name=f"speech-{dialect.name}", daemon=True)
        self._keeper.start()

    # ----- the session's side ---------------------------------------------------------------
    def respond(self, turn: int, audio: bytes | None, text: str) -> None:
        if audio and self._dialect.input_rate != INPUT_RATE:
            resampled = StreamResampler(INPUT_RATE, self._dialect.input_rate).process(
                np.frombuffer(audio, dtype=np.int16), last=True)
            audio = resampled.astype(np.int16).tobytes()
        messages = self._dialect.ask(audio, text)
        with self._lock:
            if not self._ready and self._state != "connecting":  # (the first connection: sent when up)
                raise ProviderError(self._dialect.name, f"not connected ({self._state})", retryable=True)
            if self._outgoing.maxsize - self._outgoing.qsize() < len(messages):
                raise ProviderError(self._dialect.name, "too much to send; the connection is slow",
                                    retryable=True)
            self._exchange.asked(turn, text, self._clock(), spoken=bool(audio))
            for message in messages:
                self._outgoing.put_nowait(message)

    def cancel(self, turn: int, heard_ms: float | None) -> None:
        with self._lock:
            messages = self._exchange.cancel(turn, heard_ms)
            self._queue(messages)

    def state(self) -> SpeechState:
        with self._lock:
            c = self._exchange.counters
            return SpeechState(self._state, self._reconnects, c.malformed, c.ignored,
                               self._exchange.cancelled.late_deltas, c.stalls, c.errors)

    def close(self) -> None:
        self._closing.set()
        if self._keeper is not threading.current_thread():
            self._keeper.join(timeout=self._timings.connect_timeout_s + 2)

    def _queue(self, messages: list[str]) -> None:
        for message in messages:
            try:
                self._outgoing.put_nowait(message)
            except queue.Full:
                log.warning("%s: send queue full; a control message was not sent", self._dialect.name)

    def _tell(self, events: list[SpeechEvent]) -> None:
        for event in events:
            try:
                self._listener(event)
            except Exception:  # the loop must go on; the bug is logged with its traceback
                log.exception("%s: the session failed to take %s", self._dialect.name, type(event).__name__)

    # ----- the keeper -------------------------------------------------------------------------
    def _keep(self) -> None:
        try:
            while not self._closing.is_set():
                if self._state == "refused":  # (the key: trying again will not help)
                    self._closing.wait(1.0)
                    continue
                if self._socket is None:
                    if not self._connect():
                        self._closing.wait(self._backoff())
                    continue
                message: str | None = None
                try:
                    if self._ready:  # (nothing but the opening before the API is set up)
                        message = self._outgoing.get(timeout=0.05)
                    else:
                        self._closing.wait(0.01)
                except queue.Empty:
                    pass
                if message is not None:
                    self._send(message)
                self._look_after(self._clock())
        finally:
            self._disconnect("closed")
            with self._lock:
                self._state, self._ready = "closed", False

    def _backoff(self) -> float:
        steps = self._timings.backoff_s
        return steps[min(self._failures - 1, len(steps) - 1)]

    def _connect(self) -> bool:
        dialect = self._dialect
        try:
            sock = websocket.create_connection(dialect.url(), header=dialect.headers(),
                                               timeout=self._timings.connect_timeout_s)
            with self._lock:
                history = tuple(self._exchange.history)
            for message in dialect.opening(self._instructions, history, self._handle):
                sock.send(message)
            sock.settimeout(0.25)  # the receiver wakes to see whether it should stop
        except (OSError, websocket.WebSocketException) as exc:
            self._failures += 1
            refused = isinstance(exc, websocket.WebSocketBadStatusException) and exc.status_code in (401, 403)
            log.warning("%s: could not connect (%s), try %d", dialect.name, type(exc).__name__,
                        self._failures)
            tried_all = self._failures >= len(self._timings.backoff_s)
            with self._lock:
                self._state = "refused" if refused else "down" if tried_all else "reconnecting"
                events = self._exchange.dropped("could not connect")  # (turns asked meanwhile)
            self._tell(events)
            return False
        now = self._clock()
        self._socket, self._lost = sock, None
        self._heard_at = self._pinged_at = self._opened_at = now
        self._receiver = threading.Thread(target=self._receive, args=(sock,), daemon=True,
                                          name=f"speech-{dialect.name}-reader")
        self._receiver.start()
        return True

    def _send(self, message: str) -> None:
        sock = self._socket
        if sock is None:
            return
        try:
            sock.send(message)
        except (OSError, websocket.WebSocketException) as exc:
            self._drop(f"send failed: {type(exc).__name__}")

    def _look_after(self, now: float) -> None:
        timings = self._timings
        if self._lost is not None:
            self._drop(self._lost)
            return
        with self._lock:
            ready = self._ready
            events, messages = self._exchange.overdue(now)
            self._queue(messages)
            idle = not self._exchange.busy()
        self._tell(events)
        if not ready and now - self._opened_at > timings.connect_timeout_s:
            self._drop("the session was not set up in time")
        elif now - self._heard_at > timings.dead_after_s:
            self._drop("nothing heard from the socket")
        elif self._leaving and idle:
            self._drop("the API asked to move to a new session")
        elif now - self._pinged_at > timings.ping_every_s and self._socket is not None:
            self._pinged_at = now
            try:
                self._socket.ping()
            except (OSError, websocket.WebSocketException) as exc:
                self._drop(f"ping failed: {type(exc).__name__}")

    def _drop(self, why: str) -> None:
        """The socket is gone (or given up): answers under way fail, a new one is made."""
        self._disconnect(why)
        with self._lock:
            events = self._exchange.dropped(why)
            self._ready, self._leaving = False, False
            self._state = "reconnecting"
            self._reconnects += 1
            self._failures = 1
            while not self._outgoing.empty():
                self._outgoing.get_nowait()  # (for the old session: meaningless in a new one)
        log.warning("%s: connection lost (%s); reconnecting", self._dialect.name, why)
        self._tell(events)
        self._closing.wait(self._backoff())

    def _disconnect(self, why: str) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            try:
                sock.close(timeout=0.5)
            except (OSError, websocket.WebSocketException) as exc:
                log.debug("%s: close after %s: %s", self._dialect.name, why, type(exc).__name__)
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            receiver.join(timeout=2.0)

    # ----- the receiver -----------------------------------------------------------------------
    def _receive(self, sock: websocket.WebSocket) -> None:
        while not self._closing.is_set() and self._socket is sock:
            try:
                opcode, data = sock.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                continue
            except (OSError, websocket.WebSocketException) as exc:
                self._lost = f"{type(exc).__name__}"
                return
            self._heard_at = self._clock()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self._lost = _close_reason(data)
                return
            if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                self._take(data)

    def _take(self, data: bytes) -> None:
        steps = self._dialect.read(data)
        with self._lock:
            for step in steps:
                if isinstance(step, Opened):
                    self._ready, self._state, self._failures = True, "ready", 0
                elif isinstance(step, Resumable):
                    self._handle = step.handle
                elif isinstance(step, Leaving):
                    self._leaving = True
            events, messages = self._exchange.read(steps, self._clock())
            self._queue(messages)
            bad = self._exchange.counters.malformed
        if any(isinstance(step, Malformed) for step in steps):
            log.warning("%s: unreadable message skipped (%d so far)", self._dialect.name, bad)
        self._tell(events)


def _close_reason(frame: bytes) -> str:
    """``closed by the API (1011 RESOURCE_EXHAUSTED: ...)`` from a close frame's payload."""
    if len(frame) < 2:
        return "closed by the API"
    reason = frame[2:].decode("utf-8", "replace")[:120]
    return f"closed by the API ({int.from_bytes(frame[:2], 'big')} {reason})".replace(" )", ")")
