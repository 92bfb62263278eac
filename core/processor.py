"""The turn processor: STT -> streamed LLM -> sentence splitter -> streamed TTS.

Each turn runs on the shared bounded pool. Sentences flow through a small bounded
queue to a TTS task on a second pool, so the LLM keeps generating while earlier
sentences are synthesized. A turn is checked against ``sink.is_current(turn)``
before every step and every audio chunk: a superseded turn stops and emits nothing.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

from core.audio import split_chunks
from core.providers.base import Message, ProviderError
from core.providers.registry import Providers
from core.sentences import split_stream
from core.workers import BoundedExecutor

log = logging.getLogger(__name__)

NOT_UNDERSTOOD = "Sorry, I didn't catch that. Could you say it again?"
AUDIO_CHUNK_MS = 200
_SENTENCE_QUEUE = 8
_DONE = object()


@dataclass
class TurnTimings:
    """Milliseconds from the start of processing (the end-of-turn decision)."""

    stt_ms: float | None = None
    llm_first_token_ms: float | None = None
    llm_first_sentence_ms: float | None = None
    tts_first_audio_ms: float | None = None
    total_ms: float | None = None

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 1) for k, v in self.__dict__.items() if v is not None}


@dataclass
class TurnRequest:
    turn: int
    history: Sequence[Message]
    audio: bytes | None = None
    text: str | None = None
    # A transcription of ``audio`` started before the turn was committed (speculation).
    early_transcript: Future[str] | None = None
    started: float = field(default_factory=time.monotonic)


class TurnSink(Protocol):
    """Where a turn's results go (the session). Every call may come from a worker thread."""

    def is_current(self, turn: int) -> bool: ...
    def on_transcript(self, turn: int, text: str) -> None: ...
    def on_reply_text(self, turn: int, text: str) -> None: ...
    def on_reply_audio(self, turn: int, pcm16: bytes, sample_rate: int) -> None: ...
    def on_reply_done(self, turn: int, user_text: str, reply_text: str, timings: TurnTimings) -> None: ...
    def on_turn_error(self, turn: int, error: ProviderError) -> None: ...


class TurnProcessor:
    def __init__(self, providers: Providers, workers: int, backlog: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.providers = providers
        self._turns = BoundedExecutor(workers, backlog, "turn")
        # One TTS task per running turn at most, so the same bound never overflows.
        self._tts = BoundedExecutor(workers, backlog, "tts")
        self._stt = BoundedExecutor(workers, backlog, "stt")
        self._clock = clock

    def submit(self, request: TurnRequest, sink: TurnSink) -> None:
        """Queue a turn; raises ``Overloaded`` when the backlog is full."""
        self._turns.submit(self._run_guarded, request, sink)

    def transcribe_ahead(self, audio: bytes) -> Future[str]:
        """Start transcribing now; the turn that may follow picks up the result."""
        return self._stt.submit(self.providers.stt.transcribe, audio)

    def shutdown(self) -> None:
        self._turns.shutdown()
        self._tts.shutdown()
        self._stt.shutdown()

    def _elapsed(self, request: TurnRequest) -> float:
        return (self._clock() - request.started) * 1000.0

    def _run_guarded(self, request: TurnRequest, sink: TurnSink) -> None:
        try:
            self._run(request, sink)
        except ProviderError as exc:
            log.warning("turn %d failed: %s (retryable=%s)", request.turn, exc, exc.retryable)
            sink.on_turn_error(request.turn, exc)
        except Exception as exc:
            log.exception("turn %d crashed", request.turn)
            sink.on_turn_error(request.turn, ProviderError("processor", type(exc).__name__, retryable=False))

    def _run(self, request: TurnRequest, sink: TurnSink) -> None:
        timings = TurnTimings()
        user_text = request.text or ""
        if request.early_transcript is not None:
            user_text = request.early_transcript.result()
            timings.stt_ms = self._elapsed(request)
        elif request.audio is not None:
            user_text = self.providers.stt.transcribe(request.audio)
            timings.stt_ms = self._elapsed(request)
        if request.audio is not None:
            if not sink.is_current(request.turn):
                return
            sink.on_transcript(request.turn, user_text)
        if not user_text.strip():
            sentences = iter([NOT_UNDERSTOOD])
        else:
            sentences = self._sentences(request, user_text, timings, sink)
        reply = self._speak(request, sentences, timings, sink)
        timings.total_ms = self._elapsed(request)
        if sink.is_current(request.turn):
            sink.on_reply_done(request.turn, user_text, reply, timings)

    def _sentences(self, request: TurnRequest, user_text: str, timings: TurnTimings,
                   sink: TurnSink):
        pieces = self.providers.llm.stream_reply(request.history, user_text)

        def timed_pieces():
            for piece in pieces:
                if timings.llm_first_token_ms is None:
                    timings.llm_first_token_ms = self._elapsed(request)
                if not sink.is_current(request.turn):
                    return
                yield piece

        try:
            for sentence in split_stream(timed_pieces()):
                if timings.llm_first_sentence_ms is None:
                    timings.llm_first_sentence_ms = self._elapsed(request)
                yield sentence
        finally:
            pieces.close()

    def _speak(self, request: TurnRequest, sentences, timings: TurnTimings,
               sink: TurnSink) -> str:
        """Feed sentences to a TTS task as they come; returns the text that was sent."""
        feed: queue.Queue[object] = queue.Queue(maxsize=_SENTENCE_QUEUE)
        spoken: list[str] = []
        tts_future: Future[None] | None = None

        def tts_gone() -> bool:
            return tts_future is not None and tts_future.done()

        try:
            for sentence in sentences:
                if not sink.is_current(request.turn) or tts_gone():
                    break
                if tts_future is None:
                    tts_future = self._tts.submit(self._synthesize_feed, request, feed, timings, sink)
                if not _put(feed, sentence, give_up=lambda: tts_gone() or not sink.is_current(request.turn)):
                    break
                spoken.append(sentence)
        finally:
            if tts_future is not None:
                _put(feed, _DONE, give_up=tts_gone)
        if tts_future is not None:
            tts_future.result()  # re-raises a ProviderError from synthesis
        return " ".join(spoken)

    def _synthesize_feed(self, request: TurnRequest, feed: queue.Queue[object],
                         timings: TurnTimings, sink: TurnSink) -> None:
        tts = self.providers.tts
        chunk_bytes = tts.sample_rate * AUDIO_CHUNK_MS // 1000 * 2
        while True:
            sentence = feed.get()
            if sentence is _DONE:
                return
            if not sink.is_current(request.turn):
                continue  # drain until _DONE so the producer never blocks
            sink.on_reply_text(request.turn, str(sentence))
            for pcm in tts.synthesize(str(sentence)):
                for chunk in split_chunks(pcm, chunk_bytes):
                    if not sink.is_current(request.turn):
                        break
                    if timings.tts_first_audio_ms is None:
                        timings.tts_first_audio_ms = self._elapsed(request)
                    sink.on_reply_audio(request.turn, chunk, tts.sample_rate)


def _put(feed: queue.Queue[object], item: object, give_up: Callable[[], bool]) -> bool:
    """Put with back-pressure, but never wait on a consumer that is gone."""
    while True:
        try:
            feed.put(item, timeout=0.05)
            return True
        except queue.Full:
            if give_up():
                return False
