"""What a session's events mean for the metrics: read by type, on the way out."""

from __future__ import annotations

import time
from collections.abc import Callable

from core.conversation.events import (
    Clear,
    ClearReason,
    ErrorNotice,
    Ignored,
    OutputEvent,
    ReplyDone,
    ReplyResumed,
    ReplyStarted,
    StateChanged,
    Transcript,
)
from core.metrics import Metrics
from core.session.audio_front import AudioFront
from core.session.events import ProviderStatusChanged

EARLY_S = 1.0  # talked over this soon after a reply starts: the turn was likely taken too early
SHORT_ANSWER_WORDS = 2


class SessionMetrics:
    def __init__(self, metrics: Metrics, session_id: str, channel: str, front: AudioFront,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._metrics = metrics
        self._session_id = session_id
        self._channel = channel
        self._front = front
        self._clock = clock
        self._reply_started_at: float | None = None

    def observe(self, event: OutputEvent) -> None:
        metrics = self._metrics
        if isinstance(event, StateChanged):
            silenced = self._front.take_echo_silenced()  # (counted at each change of state)
            if silenced:
                metrics.count("echo_frames_silenced", silenced)
        if isinstance(event, ReplyDone):
            metrics.record_turn(event.timings, self._session_id, self._channel)
        elif isinstance(event, Clear) and event.reason is ClearReason.BARGE_IN:
            metrics.count("barge_ins")
            self._turn_taking("barge_in")
            started = self._reply_started_at
            if started is not None and self._clock() - started <= EARLY_S:
                self._turn_taking("talked_over_early")
            heard_ms = self._front.take_voice_age_ms()  # from the first voiced frame to here
            if heard_ms is not None:
                metrics.record_barge_in(heard_ms)
        elif isinstance(event, ReplyStarted):
            self._reply_started_at = self._clock()
        elif isinstance(event, ReplyResumed):
            metrics.count("false_interruptions")
            self._turn_taking("false_interruption")
        elif isinstance(event, Ignored) and event.reason == "backchannel":
            self._turn_taking("backchannel_kept")  # "mhm" over a reply, which went on
        elif isinstance(event, Transcript) and event.final and self._short(event.text):
            self._turn_taking("short_answer")
        elif isinstance(event, ErrorNotice):
            metrics.count(f"error:{event.code}")
        elif isinstance(event, ProviderStatusChanged):
            circuit = "closed" if event.state == "closed" else "open"
            metrics.count(f"provider_{circuit}:{event.role}")

    @staticmethod
    def _short(words: str) -> bool:
        return 0 < len(words.split()) <= SHORT_ANSWER_WORDS

    def _turn_taking(self, what: str) -> None:
        self._metrics.turn_taking(what, self._channel)
