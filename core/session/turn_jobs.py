"""The provider calls of one session's turns, on the process's shared worker pools.

Results come back as typed ``JobResult``s through ``deliver`` (from the pools' threads;
the session hands them to the engine under its lock, unless it has closed). A call that
cannot even start (every worker busy) returns its failure at once instead, for the
caller to hand on in order. Cancelled turns are remembered so their workers stop at the
next piece. Nothing here knows the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future

from core.conversation.commands import Generate
from core.conversation.results import (
    REPLY_BUDGET,
    EndJudged,
    JobFailed,
    JobResult,
    ReplyEnded,
    ReplyPiece,
    SpeechChunk,
    SpeechEnded,
    Transcribed,
)
from core.providers.base import LLMProvider, Message, ProviderError, STTProvider, TTSProvider
from core.session.model_workers import ModelWorkers, SpeechFeed, Weigh
from core.session.turn_budget import ReplyBudget
from core.session.workers import Overloaded

# Cancelled turns whose workers may still be running; the oldest is forgotten first (its
# work finished long ago, and its output would be dropped as stale anyway).
MAX_CANCELLED_REMEMBERED = 64

Deliver = Callable[[JobResult], None]


def _busy(turn: int | None, job: int | None, role: str) -> JobFailed:
    return JobFailed(turn, job, f"{role}: all workers busy", True, role)


class TurnJobs:
    def __init__(self, workers: ModelWorkers, deliver: Deliver, closed: Callable[[], bool],
                 owner: str, budget: ReplyBudget | None = None) -> None:
        self._workers = workers
        self._owner = owner
        self._budget = budget
        self._deliver = deliver
        self._closed = closed
        self._jobs: dict[int, Future[None]] = {}  # transcriptions in flight, by job
        self._judging: dict[int, Future[None]] = {}  # turn-model verdicts in flight, by job
        self._feeds: dict[int, SpeechFeed] = {}  # sentences to synthesize, by turn
        self._replies: dict[int, Future[None]] = {}  # reply generation, by turn
        self._cancelled: set[int] = set()

    def clear(self) -> None:
        """Stop everything (the session is closing or detaching)."""
        for future in [*self._jobs.values(), *self._judging.values()]:
            future.cancel()
        for turn in {*self._feeds, *self._replies}:
            self.cancel(turn)
        self._jobs.clear()
        self._judging.clear()
        self._feeds.clear()

    def settled(self, result: JobResult) -> None:
        """``result`` is being handed to the engine: its transcription, or its turn's reply
        generation once ended, is no longer in flight."""
        job = result.job if isinstance(result, Transcribed | JobFailed) else None
        if job is not None:
            self._jobs.pop(job, None)
        if isinstance(result, EndJudged):
            self._judging.pop(result.job, None)
        turn = result.turn if isinstance(result, ReplyEnded | JobFailed) else None
        if turn is not None:
            self._replies.pop(turn, None)

    def is_cancelled(self, turn: int) -> bool:
        return self._closed() or turn in self._cancelled

    def cancel(self, turn: int) -> None:
        self._cancelled.add(turn)
        if len(self._cancelled) > MAX_CANCELLED_REMEMBERED:
            self._cancelled.discard(min(self._cancelled))
        self._feeds.pop(turn, None)
        reply = self._replies.pop(turn, None)
        if reply is not None:
            reply.cancel()  # still waiting for a worker: it never starts

    def _on_error(self, turn: int | None, job: int | None) -> Callable[[ProviderError], None]:
        def failed(error: ProviderError) -> None:
            self._deliver(JobFailed(turn, job, str(error), error.retryable, error.provider))

        return failed

    # ----- transcription ----------------------------------------------------------------
    def transcribe(self, stt: STTProvider, job: int, audio: bytes,
                   weigh: Weigh | None = None) -> JobFailed | None:
        try:
            self._jobs[job] = self._workers.transcribe(
                stt, audio, lambda text, ends: self._deliver(Transcribed(job, text, ends)),
                self._on_error(None, job), owner=self._owner, weigh=weigh)
        except Overloaded:
            return _busy(None, job, "stt")
        return None

    def drop_transcription(self, job: int) -> None:
        for jobs in (self._jobs, self._judging):
            future = jobs.pop(job, None)
            if future is not None:
                future.cancel()

    def judge_end(self, job: int, audio: bytes) -> EndJudged | None:
        """Ask the turn model about the pending end ``job``; its verdict comes as
        ``EndJudged`` (None, at once, when there is no model or its pool is full)."""
        ends = self._workers.ends
        if ends is None:
            return EndJudged(job, None)
        try:
            self._judging[job] = ends.judge(audio, lambda p: self._deliver(EndJudged(job, p)),
                                            owner=self._owner)
        except Overloaded:
            return EndJudged(job, None)
        return None

    # ----- reply text -------------------------------------------------------------------
    def over_budget(self, turn: int) -> JobFailed | None:
        """A reply not to start: the session's (or its address's) reply budget is spent."""
        budget = self._budget
        if budget is not None and (wait_s := budget.wait_s()) > 0:
            return JobFailed(turn, None, "Too many replies in a short time; try again in "
                             f"{math.ceil(wait_s)} s.", True, REPLY_BUDGET)
        return None

    def spend(self, pieces: int) -> None:
        """Streamed pieces of a reply: about a token each, locally and remotely."""
        if self._budget is not None:
            self._budget.spend(pieces)

    def generate(self, llm: LLMProvider, action: Generate) -> JobFailed | None:
        turn, deliver = action.turn, self._deliver
        refused = self.over_budget(turn)
        if refused is not None:
            return refused

        def piece_out(piece: str) -> None:
            self.spend(1)
            deliver(ReplyPiece(turn, piece))

        try:
            self._replies[turn] = self._workers.generate(
                llm, action.history, action.text, action.avoid,
                on_piece=piece_out,
                on_done=lambda: deliver(ReplyEnded(turn)),
                on_error=self._on_error(turn, None),
                cancelled=lambda: self.is_cancelled(turn),
                owner=self._owner,
            )
        except Overloaded:
            return _busy(turn, None, "llm")
        return None

    def prepare(self, llm: LLMProvider, history: tuple[Message, ...]) -> None:
        self._workers.prepare(llm, history, owner=self._owner)

    # ----- speech -----------------------------------------------------------------------
    def speak(self, tts: TTSProvider, turn: int, text: str) -> JobFailed | None:
        feed = self._feeds.get(turn)
        if feed is None:
            deliver = self._deliver
            feed = self._feeds[turn] = SpeechFeed()
            try:
                self._workers.speak(
                    tts, feed,
                    on_audio=lambda index, pcm, rate: deliver(SpeechChunk(turn, index, pcm, rate)),
                    on_done=lambda: deliver(SpeechEnded(turn)),
                    on_error=self._on_error(turn, None),
                    cancelled=lambda: self.is_cancelled(turn),
                    owner=self._owner,
                )
            except Overloaded:
                self._feeds.pop(turn, None)
                return _busy(turn, None, "tts")
        feed.put(text)
        return None

    def end_speech(self, turn: int) -> None:
        """No more sentences for ``turn``."""
        feed = self._feeds.pop(turn, None)
        if feed is not None:
            feed.close()
