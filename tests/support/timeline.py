"""A virtual-clock world for the turn engine: scripted speech, fake providers with delays.

The real ``Segmenter`` hears synthetic speech frame by frame; the real ``TurnEngine``
makes every decision; the fake providers (subclasses of the real interfaces) give the
words, and this module decides *when* their results arrive. Nothing sleeps: time jumps
from one scheduled event to the next, so every timestamp in a test is exact.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.audio.segmenter import (
    FRAME_BYTES,
    FRAME_MS,
    Segmenter,
    SegmenterConfig,
    SegmentEvent,
    SpeechStarted,
)
from core.conversation.commands import (
    Action,
    Cancel,
    DropTranscription,
    EndSegment,
    EndSpeech,
    Generate,
    JudgeEnd,
    Speak,
    Transcribe,
)
from core.conversation.config import EngineConfig
from core.conversation.endpointing import worth_weighing
from core.conversation.engine import TurnEngine
from core.conversation.events import AudioKind, OutputEvent, ReplyAudio
from core.conversation.results import EndJudged, ReplyEnded, ReplyPiece, SpeechChunk, SpeechEnded, Transcribed
from core.transport.wire import event_fields
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.synthetic import silence, to_pcm16, voiced_burst


@dataclass
class Delays:
    stt_ms: float = 250.0
    llm_first_token_ms: float = 100.0
    llm_token_ms: float = 25.0
    tts_ms: float = 80.0  # per sentence, before its audio is ready
    turn_model_ms: float = 50.0  # the turn model's verdict on a pause
    network_ms: float = 0.0  # server to client


@dataclass
class Received:
    """What the client got, and when (virtual ms)."""

    at: float
    event: dict[str, Any] | None = None
    audio: tuple[int, int, int] | None = None  # turn, kind, duration in ms


@dataclass
class _Speech:
    start_ms: int
    end_ms: int
    text: str
    sounds: float | None = None  # how finished its end sounds to the turn model (None: no verdict)
    ends: float | None = None  # the replies model's chance that the line ends with its words


@dataclass
class Timeline:
    config: EngineConfig = field(default_factory=EngineConfig)
    delays: Delays = field(default_factory=Delays)
    stt: FakeSTT = field(default_factory=FakeSTT)
    llm: FakeLLM = field(default_factory=FakeLLM)
    tts: FakeTTS = field(default_factory=lambda: FakeTTS(chunks=5))

    def __post_init__(self) -> None:
        self.engine = TurnEngine(self.config)
        self.segmenter = Segmenter(SegmenterConfig(
            end_silence_ms=self.config.commit_unfinished_ms,
            speculate_after_ms=self.config.speculate_after_ms,
        ))
        self.now = 0.0
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._speech: list[_Speech] = []
        self._segment_start = 0
        self._cancelled: set[int] = set()
        self._dropped_jobs: set[int] = set()
        self._tts_busy_until: dict[int, float] = {}
        self._tts_index: dict[int, int] = {}
        self._tts_pending: dict[int, int] = {}
        self._tts_ended: set[int] = set()
        self._playing_until: dict[int, float] = {}
        self._cleared: set[int] = set()
        self.received: list[Received] = []
        self.actions: list[tuple[float, Action]] = []
        self.generate_calls: list[Generate] = []
        self._audio = bytearray()

    # ----- the script -------------------------------------------------------------
    def say(self, start_s: float, end_s: float, text: str, sounds: float | None = None,
            ends: float | None = None) -> Timeline:
        """Speech from ``start_s`` to ``end_s`` whose words are ``text``; ``sounds``: the turn
        model's probability for its end (``hear_turn_ends``); ``ends``: the replies model's."""
        start_ms, end_ms = round(start_s * 1000), round(end_s * 1000)
        self._speech.append(_Speech(start_ms, end_ms, text, sounds, ends))
        return self

    def cough(self, start_s: float, ms: int = 150) -> Timeline:
        return self.say(start_s, start_s + ms / 1000, "")

    def call_at(self, at_s: float, action: Callable[[], None]) -> Timeline:
        """Do something at a moment of the run (a client's report, say)."""
        self._at(at_s * 1000, action)
        return self

    def run(self, until_s: float, start: bool = True) -> Timeline:
        end_ms = round(until_s * 1000)
        pcm = self._render(end_ms)
        if start:
            self._execute(self.engine.start(0.0))
        for index in range(len(pcm) // FRAME_BYTES):
            frame_end = (index + 1) * FRAME_MS
            self._advance(frame_end)
            frame = pcm[index * FRAME_BYTES : (index + 1) * FRAME_BYTES]
            for event in self.segmenter.process(frame):
                self._on_segment(event)
            if self.segmenter.last_frame_voiced:
                self._execute(self.engine.voice_activity(self.now))
            self._execute(self.engine.tick(self.now))
        self._advance(end_ms)
        return self

    def _render(self, end_ms: int) -> bytes:
        parts, at = [], 0
        for speech in sorted(self._speech, key=lambda s: s.start_ms):
            parts.append(silence(speech.start_ms - at))
            parts.append(voiced_burst(speech.end_ms - speech.start_ms))
            at = speech.end_ms
        parts.append(silence(max(0, end_ms - at)))
        return to_pcm16(np.concatenate(parts))

    # ----- the clock --------------------------------------------------------------
    def _at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (when, next(self._order), action))

    def _advance(self, to_ms: float) -> None:
        while self._queue and self._queue[0][0] <= to_ms:
            when, _, action = heapq.heappop(self._queue)
            self.now = max(self.now, when)
            action()
        self.now = max(self.now, to_ms)

    # ----- segmenter -> engine ----------------------------------------------------
    def _on_segment(self, event: SegmentEvent) -> None:
        if isinstance(event, SpeechStarted):
            self._segment_start = event.start_ms
        self._execute(self.engine.segment(event, self.now))

    def _words_until(self, until_ms: float) -> str:
        spoken = [s.text for s in self._speech
                  if s.start_ms >= self._segment_start - FRAME_MS and s.end_ms <= until_ms and s.text]
        return " ".join(spoken)

    # ----- actions: what the providers and the client do, and when -----------------
    def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            self.actions.append((self.now, action))
            if isinstance(action, ReplyAudio):
                if self.engine.audio_allowed(action.turn):
                    self._deliver(Received(self.now + self.delays.network_ms,
                                           audio=(action.turn, int(action.kind), round(action.duration_ms))))
            elif isinstance(action, OutputEvent):  # as the browser gets it
                self._deliver(Received(self.now + self.delays.network_ms, event=event_fields(action)))
            elif isinstance(action, Transcribe):
                self.stt.text = self._words_until(self.now)
                text = self.stt.transcribe(action.audio)
                job, ends = action.job, self._ends_here() if action.weigh and worth_weighing(text) else None
                self._at(self.now + self.delays.stt_ms,
                         lambda job=job, text=text, ends=ends: self._transcribed(job, text, ends))
            elif isinstance(action, JudgeEnd):
                ended = [s for s in self._speech if s.end_ms <= self.now]
                verdict = EndJudged(action.job, ended[-1].sounds if ended else None)
                self._at(self.now + self.delays.turn_model_ms,
                         lambda verdict=verdict: self._execute(self.engine.job_done(verdict, self.now)))
            elif isinstance(action, DropTranscription):
                self._dropped_jobs.add(action.job)
            elif isinstance(action, Generate):
                self.generate_calls.append(action)
                self._generate(action)
            elif isinstance(action, Speak):
                self._speak(action.turn, action.text)
            elif isinstance(action, EndSpeech):
                self._tts_ended.add(action.turn)
                self._maybe_tts_finished(action.turn)
            elif isinstance(action, Cancel):
                self._cancelled.add(action.turn)
            elif isinstance(action, EndSegment):
                self.segmenter.reset()

    def _transcribed(self, job: int, text: str, ends_here: float | None = None) -> None:
        self._execute(self.engine.job_done(Transcribed(job, text, ends_here), self.now))

    def _ends_here(self) -> float | None:  # the replies model's view of the last words said
        return next((s.ends for s in reversed(self._speech) if s.end_ms <= self.now), None)

    def _generate(self, action: Generate) -> None:
        pieces = list(self.llm.stream_reply(action.history, action.text))
        turn = action.turn
        at = self.now + self.delays.llm_first_token_ms
        for piece in pieces:
            self._at(at, lambda piece=piece: self._piece(turn, piece))
            at += self.delays.llm_token_ms
        self._at(at - self.delays.llm_token_ms, lambda: self._llm_done(turn))

    def _piece(self, turn: int, piece: str) -> None:
        if turn not in self._cancelled:
            self._execute(self.engine.job_done(ReplyPiece(turn, piece), self.now))

    def _llm_done(self, turn: int) -> None:
        if turn not in self._cancelled:
            self._execute(self.engine.job_done(ReplyEnded(turn), self.now))

    def _speak(self, turn: int, text: str) -> None:
        start = max(self.now, self._tts_busy_until.get(turn, 0.0))
        ready = start + self.delays.tts_ms
        self._tts_busy_until[turn] = ready
        self._tts_pending[turn] = self._tts_pending.get(turn, 0) + 1
        chunks = list(self.tts.synthesize(text))
        self._at(ready, lambda: self._synthesized(turn, chunks))

    def _synthesized(self, turn: int, chunks: list[bytes]) -> None:
        self._tts_pending[turn] -= 1
        if turn in self._cancelled:
            return
        index = self._tts_index.get(turn, 0)
        self._tts_index[turn] = index + 1
        for pcm in chunks:
            self._execute(self.engine.job_done(SpeechChunk(turn, index, pcm, self.tts.sample_rate), self.now))
        self._maybe_tts_finished(turn)

    def _maybe_tts_finished(self, turn: int) -> None:
        if turn in self._tts_ended and not self._tts_pending.get(turn) and turn not in self._cancelled:
            self._tts_ended.discard(turn)
            self._execute(self.engine.job_done(SpeechEnded(turn), self.now))

    # ----- the client ---------------------------------------------------------------
    def _deliver(self, item: Received) -> None:
        self.received.append(item)
        event = item.event
        if event is not None:
            if event["type"] == "clear":
                self._cleared.add(event["turn"])
                self._playing_until.pop(event["turn"], None)
            elif event["type"] == "resume":
                self._cleared.discard(event["turn"])
            elif event["type"] == "reply_done":
                turn = event["turn"]
                self._at(max(item.at, self._playing_until.get(turn, item.at)),
                         lambda: self._played(turn))
        elif item.audio is not None:
            turn, _kind, ms = item.audio
            if turn not in self._cleared:
                start = max(item.at, self._playing_until.get(turn, item.at))
                self._playing_until[turn] = start + ms

    def _played(self, turn: int) -> None:
        if turn in self._cleared:
            return
        until = self._playing_until.get(turn, self.now)
        if until > self.now:
            self._at(until, lambda: self._played(turn))
            return
        self._execute(self.engine.playback_done(turn, self.now))

    # ----- what tests look at -------------------------------------------------------
    def events(self, kind: str | None = None, **fields: Any) -> list[Received]:
        return [r for r in self.received if r.event is not None
                and (kind is None or r.event["type"] == kind)
                and all(r.event.get(k) == v for k, v in fields.items())]

    def first(self, kind: str, **fields: Any) -> Received:
        found = self.events(kind, **fields)
        assert found, f"no {kind} {fields}; got {[r.event['type'] for r in self.events()]}"
        return found[0]

    def audio(self, turn: int | None = None, kind: int = AudioKind.REPLY) -> list[Received]:
        return [r for r in self.received if r.audio is not None and r.audio[1] == kind
                and (turn is None or r.audio[0] == turn)]

    def states(self) -> list[str]:
        return [r.event["state"] for r in self.events("state")]  # type: ignore[index]
