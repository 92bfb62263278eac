"""The provider calls of one session's turns, on the process's shared worker pools.

Results come back through ``deliver``: the session runs the given engine input under
its lock (unless it has closed) and carries out the actions. Cancelled turns are
remembered so their workers stop at the next piece.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from core.engine_types import Action, Generate
from core.model_workers import ModelWorkers, SpeechFeed
from core.providers.base import LLMProvider, Message, ProviderError, STTProvider, TTSProvider
from core.turn_engine import TurnEngine
from core.workers import Overloaded

# Cancelled turns whose workers may still be running; the oldest is forgotten first (its
# work finished long ago, and its output would be dropped as stale anyway).
MAX_CANCELLED_REMEMBERED = 64

EngineInput = Callable[[float], list[Action]]
Deliver = Callable[[EngineInput], None]


class TurnJobs:
    def __init__(self, workers: ModelWorkers, engine: TurnEngine, deliver: Deliver,
                 closed: Callable[[], bool]) -> None:
        self._workers = workers
        self._engine = engine
        self._deliver = deliver
        self._closed = closed
        self._jobs: dict[int, Future[None]] = {}
        self._feeds: dict[int, SpeechFeed] = {}
        self._cancelled: set[int] = set()

    def clear(self) -> None:
        """Stop everything (the session is closing or detaching)."""
        for future in self._jobs.values():
            future.cancel()
        for turn in list(self._feeds):
            self.cancel(turn)
        self._jobs.clear()
        self._feeds.clear()

    def is_cancelled(self, turn: int) -> bool:
        return self._closed() or turn in self._cancelled

    def cancel(self, turn: int) -> None:
        self._cancelled.add(turn)
        if len(self._cancelled) > MAX_CANCELLED_REMEMBERED:
            self._cancelled.discard(min(self._cancelled))
        self._feeds.pop(turn, None)

    def _failure(self, turn: int | None, job: int | None) -> Callable[[ProviderError], None]:
        engine = self._engine

        def failed(error: ProviderError) -> None:
            def report(now: float) -> list[Action]:
                if job is not None:
                    self._jobs.pop(job, None)
                return engine.failed(turn, job, str(error), error.retryable, error.provider, now)

            self._deliver(report)

        return failed

    # ----- transcription ----------------------------------------------------------------
    def transcribe(self, stt: STTProvider, job: int, audio: bytes) -> None:
        engine = self._engine
        failed = self._failure(None, job)

        def done(text: str) -> None:
            def report(now: float) -> list[Action]:
                self._jobs.pop(job, None)
                return engine.transcript(job, text, now)

            self._deliver(report)

        try:
            self._jobs[job] = self._workers.transcribe(stt, audio, done, failed)
        except Overloaded:
            failed(ProviderError("stt", "all workers busy", retryable=True))

    def drop_transcription(self, job: int) -> None:
        future = self._jobs.pop(job, None)
        if future is not None:
            future.cancel()

    # ----- reply text -------------------------------------------------------------------
    def generate(self, llm: LLMProvider, action: Generate) -> None:
        turn, engine, deliver = action.turn, self._engine, self._deliver
        try:
            self._workers.generate(
                llm, action.history, action.text, action.avoid,
                on_piece=lambda piece: deliver(lambda now: engine.reply_piece(turn, piece, now)),
                on_done=lambda: deliver(lambda now: engine.reply_finished(turn, now)),
                on_error=self._failure(turn, None),
                cancelled=lambda: self.is_cancelled(turn),
            )
        except Overloaded:
            deliver(lambda now: engine.failed(turn, None, "busy", True, "llm", now))

    def prepare(self, llm: LLMProvider, history: tuple[Message, ...]) -> None:
        self._workers.prepare(llm, history)

    # ----- speech -----------------------------------------------------------------------
    def speak(self, tts: TTSProvider, turn: int, text: str) -> None:
        feed = self._feeds.get(turn)
        if feed is None:
            engine, deliver = self._engine, self._deliver
            feed = self._feeds[turn] = SpeechFeed()
            try:
                self._workers.speak(
                    tts, feed,
                    on_audio=lambda index, pcm, rate: deliver(
                        lambda now: engine.speech_audio(turn, index, pcm, rate, now)),
                    on_done=lambda: deliver(lambda now: engine.speech_finished(turn, now)),
                    on_error=self._failure(turn, None),
                    cancelled=lambda: self.is_cancelled(turn),
                )
            except Overloaded:
                self._feeds.pop(turn, None)
                deliver(lambda now: engine.failed(turn, None, "busy", True, "tts", now))
                return
        feed.put(text)

    def end_speech(self, turn: int) -> bool:
        """No more sentences for ``turn``; False when it never had any."""
        feed = self._feeds.pop(turn, None)
        if feed is None:
            return False
        feed.close()
        return True
