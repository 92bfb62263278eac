"""What a session's events mean for the metrics: read by type, on the way out."""

from __future__ import annotations

from core.conversation.events import (
    Clear,
    ClearReason,
    ErrorNotice,
    Ignored,
    OutputEvent,
    ReplyDone,
    ReplyResumed,
    StateChanged,
)
from core.metrics import Metrics
from core.session.audio_front import AudioFront
from core.session.events import ProviderStatusChanged


class SessionMetrics:
    def __init__(self, metrics: Metrics, session_id: str, channel: str, front: AudioFront) -> None:
        self._metrics = metrics
        self._session_id = session_id
        self._channel = channel
        self._front = front

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
            heard_ms = self._front.take_voice_age_ms()  # from the first voiced frame to here
            if heard_ms is not None:
                metrics.record_barge_in(heard_ms)
        elif isinstance(event, ReplyResumed):
            metrics.count("false_interruptions")
        elif isinstance(event, Ignored) and event.reason == "backchannel":
            metrics.count("backchannels_kept")  # "mhm" over a reply, which went on
        elif isinstance(event, ErrorNotice):
            metrics.count(f"error:{event.code}")
        elif isinstance(event, ProviderStatusChanged):
            circuit = "closed" if event.state == "closed" else "open"
            metrics.count(f"provider_{circuit}:{event.role}")
