"""What comes in on one voice socket, through the connection's limits, to its handler.

Who reads the socket: the process's reader hub (core/transport/reader_hub.py) reads
audio frames and hands them on from its thread; the connection's own thread reads
whenever the hub gives the socket back (a control message, an action to carry out,
the end) and then returns it to the hub. Without a hub the connection's thread reads
everything itself. Either way every message passes the same limits, in order: the
session still ours (not resumed elsewhere), the flood guard's rate and backlog, the
idle timeout. Whatever writes to the socket or ends the connection happens on the
connection's thread, never on the hub's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from simple_websocket import ConnectionClosed

from core.audio.neural_vad import VoiceBatch
from core.bugs import INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, BugLog
from core.metrics import Metrics
from core.transport.flood_guard import FloodGuard, Verdict
from core.transport.lease import Lease
from core.transport.reader_hub import HandBack, ReaderHub
from core.transport.socket_io import CLOSE_POLICY

SendError = Callable[[str, str, bool], None]
T = TypeVar("T")


def _nothing() -> None:
    """A dropped frame's second step."""


class Ended(Exception):
    """The connection ends on the server's decision (idle, flooding, taken over)."""

    def __init__(self, code: int | None, error: str, message: str, keep: bool = False) -> None:
        super().__init__(error)
        self.code = code
        self.error = error
        self.message = message
        self.keep = keep  # park the session for a resume rather than close it


@dataclass(frozen=True)
class IntakeLimits:
    idle_timeout_s: float
    metrics: Metrics
    bugs: BugLog
    clock: Callable[[], float]


class Intake:
    def __init__(self, ws: Any, hub: ReaderHub | None, lease: Lease, guard: FloodGuard,
                 handle: Callable[[str | bytes], None], send_error: SendError, limits: IntakeLimits) -> None:
        self._ws = ws
        self._hub = hub
        self._lease = lease
        self._guard = guard
        self._handle = handle
        self._send_error = send_error
        self._limits = limits

    def run(self) -> None:
        """Until the connection ends: ``Ended``, or the socket's ``ConnectionClosed``."""
        ws, clock, idle_s = self._ws, self._limits.clock, self._limits.idle_timeout_s
        if self._hub is None:
            while True:
                self._take(ws.receive(timeout=idle_s))
        member = self._hub.join(ws, self._audio_in_hub)
        try:
            while True:
                # This thread reads until nothing is waiting, then the hub does, until it
                # gives the socket back.
                while (message := ws.receive(timeout=0)) is not None:
                    member.last_message_at = clock()
                    self._take(message)
                member.give()
                while not member.wait_returned(max(0.0, member.last_message_at + idle_s - clock())):
                    if clock() >= member.last_message_at + idle_s:
                        member.take_back()
                        self._take(None)
                for action in member.take_actions():
                    action()
        finally:
            member.take_back()

    def _take(self, message: str | bytes | None) -> None:
        """One message (``None``: none for the idle timeout) through the limits."""
        if message is None:
            self._send_error("idle_timeout", "Closed after a long time without activity.", True)
            raise Ended(None, "idle_timeout", "", keep=False)
        self._check_held()
        if self._guard.backlog_too_big(getattr(self._ws, "input_buffer", ())):
            raise Ended(CLOSE_POLICY, "flooding", "Too many messages waiting; connection closed.")
        verdict = self._guard.admit()
        if verdict is Verdict.CLOSE:
            self._flooded()
        if verdict is Verdict.DROP_AND_WARN:
            self._warn_rate()
        if verdict is Verdict.ACCEPT:
            self._lease.entry.touch(len(message), self._limits.clock())
            self._handle(message)

    def _audio_in_hub(self, frame: bytes, batch: VoiceBatch) -> Callable[[], None]:
        """An audio frame on the hub's thread: as ``_take``, but whatever writes or ends the
        connection is handed back. Returns the session's step for once ``batch`` has run.
        (No backlog check: the hub parses one read at a time; the rest waits in the
        kernel, where TCP holds a fast client back.)"""
        if not self._lease.held:
            raise HandBack(self._check_held)
        verdict = self._guard.admit()
        if verdict is Verdict.CLOSE:
            raise HandBack(self._flooded)
        if verdict is Verdict.DROP_AND_WARN:
            raise HandBack(self._warn_rate)
        if verdict is not Verdict.ACCEPT:
            return _nothing
        self._lease.entry.touch(len(frame), self._limits.clock())
        session = self._lease.session
        staged = self._reported(lambda: session.stage_audio(frame, batch))
        return lambda: self._reported(lambda: session.hear_audio(staged))

    def _reported(self, step: Callable[[], T]) -> T:
        try:
            return step()
        except (ConnectionClosed, ConnectionError):
            raise
        except Exception as exc:  # a bug must not end the conversation: say so, keep it
            self._limits.bugs.report(exc)
            raise HandBack(self._tell_internal_error) from exc

    def _check_held(self) -> None:
        if not self._lease.held:
            raise Ended(CLOSE_POLICY, "resumed_elsewhere",
                        "This conversation was resumed on another connection.", keep=True)

    @staticmethod
    def _flooded() -> None:
        raise Ended(CLOSE_POLICY, "flooding", "Messages kept coming faster than allowed.")

    def _warn_rate(self) -> None:
        self._limits.metrics.count("error:rate_limited")
        self._send_error("rate_limited", "Too many messages; some were dropped.", True)

    def _tell_internal_error(self) -> None:
        self._send_error(INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, True)
