"""When has the person finished? The pending end of a turn, from pause to commit.

The segmenter reports a pause 60 ms into a silence; transcription starts at once. The
transcript's last words then set how long the silence must hold: a question or full
sentence commits soon, a trailing "and" or "um" waits long, no hint waits in between.
If the person goes on, the pending end (and any reply made for it) is dropped. The
segmenter's own longest wait commits the turn at the latest.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.conversation.commands import Action, Cancel, DropTranscription, Transcribe
from core.conversation.config import EngineConfig
from core.conversation.endpointing import Finish, judge
from core.conversation.reply_turn import ReplyTurn


@dataclass
class PendingEnd:
    """Speech stopped; the turn is not committed yet. A transcript may be on its way,
    and a reply may already be generated for it (``speculative``)."""

    job: int
    end_ms: int  # stream time of the end of speech (matches the segmenter's events)
    speech_end_at: float  # engine time of the end of speech
    deadline: float
    transcript: str | None = None
    transcript_at: float | None = None
    verdict: Finish = Finish.UNKNOWN
    failure: tuple[str, bool, str] | None = None  # message, retryable, provider
    speculative: ReplyTurn | None = None
    short: bool = False  # a short voiced stretch: a word if its transcript has one, else nothing


class EndOfTurn:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.pending: PendingEnd | None = None
        self._last_job = 0
        self._committed_end_ms: int | None = None

    @property
    def speculative(self) -> ReplyTurn | None:
        return self.pending.speculative if self.pending is not None else None

    def paused(self, end_ms: int, audio: bytes, now: float) -> list[Action]:
        """Speech stopped (as far as anyone can tell yet): transcribe what was said."""
        actions = self.drop()
        speech_end_at = now - self.config.speculate_after_ms
        deadline = speech_end_at + self.config.commit_after_ms
        self.pending = PendingEnd(self._new_job(), end_ms, speech_end_at, deadline)
        return [*actions, Transcribe(self.pending.job, audio)]

    def ended(self, end_ms: int, audio: bytes, now: float,
              short: bool = False) -> tuple[list[Action], PendingEnd | None]:
        """The segmenter's longest silence is over: the end to commit now, if any.
        ``short``: a stretch too short to be sure it was speech (no words in it, no turn)."""
        if end_ms == self._committed_end_ms:
            return [], None  # already committed when the words sounded finished
        pending = self.pending
        if pending is not None and pending.end_ms == end_ms:
            pending.short = short
            return [], pending
        actions = self.drop()
        self.pending = PendingEnd(self._new_job(), end_ms, now, now, short=short)
        return [*actions, Transcribe(self.pending.job, audio)], self.pending

    def heard(self, job: int, text: str, now: float) -> PendingEnd | None:
        """The transcript of the pending end arrived: its words set the deadline."""
        pending = self.pending
        if pending is None or pending.job != job:
            return None
        pending.transcript, pending.transcript_at = text, now
        pending.verdict = judge(text)
        if pending.verdict is Finish.DONE:
            pending.deadline = min(pending.deadline, pending.speech_end_at + self.config.commit_done_ms)
        elif pending.verdict is Finish.UNFINISHED:
            pending.deadline = pending.speech_end_at + self.config.commit_unfinished_ms
        return pending

    def due(self, now: float) -> PendingEnd | None:
        pending = self.pending
        return pending if pending is not None and now >= pending.deadline else None

    def take(self, pending: PendingEnd) -> None:
        """The turn is committed: this end is no longer pending."""
        self.pending = None
        self._committed_end_ms = pending.end_ms

    def drop(self) -> list[Action]:
        """The person went on talking: forget the pending end and any reply made for it."""
        pending, self.pending = self.pending, None
        if pending is None:
            return []
        actions: list[Action] = [DropTranscription(pending.job)]
        if pending.speculative is not None:
            actions.append(Cancel(pending.speculative.number))
        return actions

    def _new_job(self) -> int:
        self._last_job += 1
        return self._last_job
