"""One WebSocket's life: admission, the receive loop with its limits, resume, release.

Whichever side ends the connection, ``serve`` releases the session: a socket that
dropped parks the conversation for a resume (its turn in progress is stopped, its send
thread and buffers released); an idle or flooding client, or a refused resume's fresh
session, is closed for good.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from simple_websocket import ConnectionClosed

from core.connection_pool import PoolEntry, Refused
from core.flood_guard import FloodGuard, Verdict
from core.protocol import ProtocolError, event, parse_control
from core.runtime import VoiceRuntime
from core.session import Session

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008  # origin refused, flooding
CLOSE_TRY_AGAIN = 1013  # server full, too many from one address


def send(ws: Any, payload: str | bytes) -> None:
    """Send on a voice or phone socket from any thread (``SingleThreadServer`` orders the
    writes); a closed socket raises ``ConnectionError``, which senders already handle."""
    try:
        ws.send(payload)
    except ConnectionClosed as exc:
        raise ConnectionError("socket closed") from exc


def refuse(ws: Any, code: int, error: str, message: str) -> None:
    """Tell the client why, close with ``code``, and wait for its close reply.

    Returning at once would let the server drop the TCP connection while the client's
    close frame is in flight; the reset can then swallow our close frame and its code.
    """
    try:
        ws.send(json.dumps(event("error", code=error, retryable=code == CLOSE_TRY_AGAIN, message=message)))
        ws.close(reason=code, message=error)
    except ConnectionClosed:
        return
    ws.wait_closed(timeout=2.0)  # this thread reads the reply (core/ws_single_thread.py)


class _Ended(Exception):
    """The connection ends on the server's decision (idle, flooding, taken over)."""

    def __init__(self, code: int | None, error: str, message: str, keep: bool = False) -> None:
        super().__init__(error)
        self.code = code
        self.error = error
        self.message = message
        self.keep = keep  # park the session for a resume rather than close it


class VoiceConnection:
    def __init__(self, ws: Any, runtime: VoiceRuntime, address: str,
                 clock: Any = time.monotonic) -> None:
        self._ws = ws
        self._runtime = runtime
        self._settings = runtime.settings
        self._address = address
        self._clock = clock
        s = self._settings
        self._guard = FloodGuard(s.messages_per_second, s.inbox_max_messages, s.inbox_max_bytes,
                                 s.max_message_bytes, clock)
        self._entry: PoolEntry | None = None
        self._session: Session | None = None
        self._epoch = 0  # the session's attachment this connection serves

    def _send(self, payload: str | bytes) -> None:
        # The session's outbox thread and this socket's thread (rate-limit and idle errors)
        # both send: the socket serializes them (core/ws_single_thread.py).
        send(self._ws, payload)

    def serve(self) -> None:
        runtime = self._runtime
        admitted = runtime.pool.admit(uuid.uuid4().hex, self._address, owner=self)
        if isinstance(admitted, Refused):
            runtime.monitor.count(f"refused_{admitted.code}")
            refuse(self._ws, CLOSE_TRY_AGAIN, admitted.code, admitted.message)
            return
        self._entry = admitted
        session = self._session = Session(admitted.session_id, self._settings, runtime.services(), self._send)
        admitted.session = session
        runtime.monitor.session_opened()
        log.info("session %s opened", session.id[:8])
        keep = True  # a dropped socket: the conversation may be resumed
        try:
            session.open()
            self._receive_loop()
        except _Ended as ended:
            keep = ended.keep
            if ended.code is not None:
                runtime.monitor.count(f"closed_{ended.error}")
                refuse(self._ws, ended.code, ended.error, ended.message)
        except (ConnectionClosed, ConnectionError):
            log.info("session %s: socket closed", self._current.id[:8])
        finally:
            self._release(keep)

    @property
    def _current(self) -> Session:
        assert self._session is not None
        return self._session

    def _receive_loop(self) -> None:
        ws, guard = self._ws, self._guard
        while True:
            message = ws.receive(timeout=self._settings.session_idle_timeout_s)
            if message is None:
                self._send(json.dumps(event("error", code="idle_timeout", retryable=True,
                                            message="Closed after a long time without activity.")))
                raise _Ended(None, "idle_timeout", "", keep=False)
            # The entry's owner changes when a resume takes the session over: read without
            # the pool's lock, which every socket thread would otherwise take per message.
            assert self._entry is not None
            if self._entry.owner is not self:
                raise _Ended(CLOSE_POLICY, "resumed_elsewhere",
                             "This conversation was resumed on another connection.", keep=True)
            if guard.backlog_too_big(getattr(ws, "input_buffer", ())):
                raise _Ended(CLOSE_POLICY, "flooding", "Too many messages waiting; connection closed.")
            verdict = guard.admit()
            if verdict is Verdict.CLOSE:
                raise _Ended(CLOSE_POLICY, "flooding", "Messages kept coming faster than allowed.")
            if verdict is Verdict.DROP_AND_WARN:
                self._runtime.monitor.count("error:rate_limited")
                self._send(json.dumps(event("error", code="rate_limited", retryable=True,
                                            message="Too many messages; some were dropped.")))
            if verdict is not Verdict.ACCEPT:
                continue
            self._entry.touch(len(message), self._clock())
            self._handle(message)

    def _handle(self, message: str | bytes) -> None:
        session = self._current
        try:
            if isinstance(message, bytes):
                session.handle_binary(message)
                return
            try:
                parsed = parse_control(message)
            except ProtocolError as exc:
                session.report(exc)
                return
            if parsed.type == "resume":
                self._resume(parsed.data["session_id"], parsed.data["token"])
            else:
                session.handle_message(parsed)
        except (ConnectionClosed, ConnectionError):
            raise
        except Exception:  # a bug must not end the conversation: say so, keep it
            log.exception("session %s: message handling failed", session.id[:8])
            self._runtime.monitor.count("error:internal")
            self._send(json.dumps(event("error", code="internal_error", retryable=True,
                                        message="Something went wrong on the server.")))

    def _resume(self, session_id: str, token: str) -> None:
        fresh, monitor = self._current, self._runtime.monitor
        if not fresh.fresh:
            fresh.report(ProtocolError("out_of_order", "resume must come before anything else"))
            return
        entry = self._runtime.pool.claim(session_id, token, replacing=fresh.id, owner=self)
        if entry is None or entry.session is None:
            monitor.count("resume_refused")
            fresh.report(ProtocolError("resume_refused", "That conversation cannot be resumed (unknown, "
                                       "expired or wrong token); this is a new one."))
            return
        fresh.close()
        self._entry, self._session = entry, entry.session
        entry.session.attach(self._send)
        self._epoch = entry.session.epoch
        monitor.count("resumed")
        log.info("session %s resumed", session_id[:8])

    def _release(self, keep: bool) -> None:
        runtime, session = self._runtime, self._current
        if keep and session.worth_resuming:
            session.detach(self._epoch)  # (a no-op if a resume took it over meanwhile)
            for gone in runtime.pool.park(session.id, self):
                gone.close()
        elif runtime.pool.remove(session.id, self):
            session.close()
        runtime.monitor.session_closed()
        log.info("session %s: connection ended", session.id[:8])
