"""What a session says, carried to a phone call; and what the caller heard, carried back.

``PhoneReplyChannel`` is the session's output port on a call: it takes the session's
typed events directly. On a call:

- reply audio becomes 20 ms µ-law frames for the playout, with a mark every
  ``MARK_EVERY_FRAMES`` frames (named ``turn:count``, the end of a reply's audio
  ``turn:count:end``) standing for how much of the turn's reply has gone out; when
  Twilio echoes a mark, that much has played (``progress``), so an interrupted reply is
  stored cut where the caller stopped hearing it, not where the sending stopped;
- ``ReplyDone`` ends the turn's audio with an end mark; its echo means the caller has
  heard it all (``done``: the session's ``playback_done``);
- ``Clear`` (a barge-in, a reply superseded) drops the audio queued here and in Twilio;
  the marks it had pending come back at once, meaning "dropped", and are ignored;
- ``ReplyResumed`` (the caller only coughed) restarts the count at the sentence the
  reply resumes from. Other events are for a screen and have no place on a phone.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from core.conversation.events import (
    AudioKind,
    Clear,
    ErrorNotice,
    OutputEvent,
    ReplyAudio,
    ReplyDone,
    ReplyResumed,
)
from core.phone.audio import PHONE_FRAME_MS, OutboundAudio
from core.phone.playout import PhonePlayout, PlayoutFull

log = logging.getLogger(__name__)

MARK_EVERY_FRAMES = 5  # 100 ms: how finely a cut reply is placed
MAX_PENDING_MARKS = 4_096


@dataclass(frozen=True)
class _Pending:
    turn: int
    played_ms: float  # the turn's reply audio played once this mark comes back
    end: bool


class PhoneReplyChannel:
    def __init__(self, playout: PhonePlayout, progress: Callable[[int, float], None],
                 done: Callable[[int], None]) -> None:
        self._playout = playout
        self._progress = progress
        self._done = done
        self._outbound = OutboundAudio()
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._marks_made = 0
        self._turn: int | None = None  # the turn whose audio is going out
        self._sent_ms = 0.0  # of that turn's reply audio
        self._since_mark = 0
        self.dropped_frames = 0

    # ----- from the session (its outbox thread) ----------------------------------------
    def deliver(self, event: OutputEvent) -> None:
        """The session's output port."""
        if isinstance(event, ReplyAudio):
            self._audio(event)
            return
        with self._lock:
            if isinstance(event, Clear):
                log.info("phone call: reply %s cleared (%s)", event.turn, event.reason.value)
                self._clear()
            elif isinstance(event, ReplyResumed) and event.turn == self._turn:
                self._sent_ms = float(event.from_ms)
                self._since_mark = 0
            elif isinstance(event, ReplyDone) and event.turn == self._turn:
                self._queue(self._outbound.finish(), counted=True)
                self._mark(end=True)
        if isinstance(event, ErrorNotice):
            log.info("phone call: %s (%s)", event.code, event.message)

    def _audio(self, audio: ReplyAudio) -> None:
        with self._lock:
            if audio.turn != self._turn:
                self._queue(self._outbound.finish(), counted=False)  # (a cut turn's tail: empty)
                self._turn, self._sent_ms, self._since_mark = audio.turn, 0.0, 0
            frames = self._outbound.add(audio.pcm, audio.sample_rate)
            self._queue(frames, counted=audio.kind is AudioKind.REPLY)

    def _queue(self, frames: list[bytes], counted: bool) -> None:
        """Under the lock: frames to the playout, with a mark every MARK_EVERY_FRAMES of
        reply audio (a thinking cue's frames are not part of the reply)."""
        if not counted:
            self._add_frames(frames)
            return
        start = 0
        while start < len(frames):
            take = min(len(frames) - start, MARK_EVERY_FRAMES - self._since_mark)
            self._add_frames(frames[start : start + take])
            start += take
            self._since_mark += take
            self._sent_ms += take * PHONE_FRAME_MS
            if self._since_mark == MARK_EVERY_FRAMES:
                self._mark(end=False)

    def _add_frames(self, frames: list[bytes]) -> None:
        try:
            self._playout.add_frames(frames)
        except PlayoutFull as exc:
            self.dropped_frames += len(frames)
            log.warning("phone call: reply audio dropped: %s", exc)

    def _mark(self, end: bool) -> None:
        if self._turn is None:
            return
        self._since_mark = 0
        self._marks_made += 1
        name = f"{self._turn}:{self._marks_made}" + (":end" if end else "")
        self._pending[name] = _Pending(self._turn, self._sent_ms, end)
        while len(self._pending) > MAX_PENDING_MARKS:
            self._pending.popitem(last=False)
        try:
            self._playout.add_mark(name)
        except PlayoutFull:
            del self._pending[name]

    def _clear(self) -> None:
        self._playout.clear()
        self._outbound.finish()  # the resampler's tail belongs to the dropped audio
        self._pending.clear()  # their echoes now mean "dropped", not "played"
        self._since_mark = 0

    # ----- from the call (its socket thread) -----------------------------------------------
    def marked(self, name: str) -> None:
        """Twilio echoed a mark: the audio before it has played (unless it was cleared)."""
        with self._lock:
            pending = self._pending.pop(name, None)
        if pending is None:
            return
        self._progress(pending.turn, pending.played_ms)
        if pending.end:
            self._done(pending.turn)
