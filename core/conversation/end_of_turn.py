"""When has the person finished? The pending end of a turn, from pause to commit.

The segmenter reports a pause 60 ms into a silence; transcription starts at once, and
the turn model (how the voice ended: ``core.audio.turn_model``) listens to the same
audio. Two verdicts then set how long the silence must hold (``hold_ms``):

- the words trail off ("and", "um", a comma): the longest wait, whatever the voice did;
- the voice sounds finished and the words do not trail off: commit soon, speak at once;
- the voice sounds as if it goes on: the longest wait (a reply is prepared meanwhile),
  unless the words are a question or a request ("Tell me about the moon."): the two
  disagree, and the reply waits a breath's length after the speech
  (``min_reply_gap_ms``). A question mark is the recognizer's own judgement of the
  syntax and the melody, and a request verb first is plain; its full stops are not
  evidence (it ends almost every fragment with one, "Last weekend we drove up to the
  mountains.");
- no verdict from the voice (no model, or not back yet): the words alone, and the reply
  waits a breath's length after the speech.

If the person goes on, the pending end (and any reply made for it) is dropped. The
segmenter's own longest wait commits the turn at the latest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.conversation.commands import Action, Cancel, DropTranscription, JudgeEnd, Transcribe
from core.conversation.config import EngineConfig
from core.conversation.endpointing import Finish, asks, is_backchannel, weighed
from core.conversation.patience import Patience
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
    sound: float | None = None  # the turn model's probability that the voice has finished
    sound_heard: bool = False  # its verdict is in (``sound`` None then: it could not tell)
    over_reply: bool = False  # said while a reply was held by it (a barge-in, or a "mhm")

    def sounds_finished(self, config: EngineConfig) -> bool:
        return self.sound is not None and self.sound >= config.finished_probability

    def hold_ms(self, config: EngineConfig, patient: bool = False, continuing: bool = False) -> int:
        """The silence after the speech that commits this turn, from what is known so far
        (``patient``: with a person who was lately talked over mid-sentence; ``continuing``:
        these words carry on the sentence that was talked over)."""
        if self.over_reply and self.transcript is not None and is_backchannel(self.transcript):
            return config.commit_done_ms  # "mhm" over the reply: let it go on at once
        hold = self._hold_ms(config)
        if not patient:
            return hold
        if self.transcript is not None and asks(self.transcript) and not continuing:
            return max(hold, config.min_reply_gap_ms)  # a question waits a breath
        return max(hold, config.commit_unfinished_ms)

    def _hold_ms(self, config: EngineConfig) -> int:
        if self.verdict is Finish.UNFINISHED:
            return config.commit_unfinished_ms
        if self.sound is not None and not self.sounds_finished(config):
            if self.transcript is not None and asks(self.transcript):
                return config.commit_after_ms  # they disagree: commit, speak after a breath
            return config.commit_unfinished_ms  # the voice is held up: more is coming
        if self.transcript is None:
            return config.commit_after_ms  # (the words may still trail off)
        if self.sounds_finished(config) or (self.verdict is Finish.DONE and not self._awaits_sound(config)):
            return config.commit_done_ms
        return config.commit_after_ms

    def speak_at(self, config: EngineConfig) -> float:
        """The earliest time its reply may be heard: at once when the voice sounded
        finished, else no sooner than a breath after the speech."""
        return self.speech_end_at + (0 if self.sounds_finished(config) else config.min_reply_gap_ms)

    def _awaits_sound(self, config: EngineConfig) -> bool:
        return config.hear_turn_ends and not self.sound_heard


class EndOfTurn:
    def __init__(self, config: EngineConfig, reply_held: Callable[[], bool] = lambda: False) -> None:
        self.config = config
        self._reply_held = reply_held
        self.pending: PendingEnd | None = None
        self.patience = Patience()
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
        pending = self.pending = PendingEnd(self._new_job(), end_ms, speech_end_at, deadline,
                                            over_reply=self._reply_held())
        actions.append(Transcribe(pending.job, audio, weigh=self.config.weigh_words))
        return [*actions, JudgeEnd(pending.job, audio)] if self.config.hear_turn_ends else actions

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

    def heard(self, job: int, text: str, now: float, ends_here: float | None = None) -> PendingEnd | None:
        """The transcript of the pending end arrived: its words (and the replies model's
        chance that the line ends with them) set the deadline."""
        pending = self.pending
        if pending is None or pending.job != job:
            return None
        pending.transcript, pending.transcript_at = text, now
        pending.verdict = weighed(text, ends_here, self.config.fragment_probability)
        self.patience.heard(text)
        self._plan(pending)
        return pending

    def sounded(self, job: int, probability: float | None, now: float) -> PendingEnd | None:
        """The turn model's verdict on the pending end arrived."""
        pending = self.pending
        if pending is None or pending.job != job:
            return None
        pending.sound, pending.sound_heard = probability, True
        self._plan(pending)  # (a reply made ahead gets its earliest time when adopted)
        return pending

    @property
    def _patient(self) -> bool:
        return self.config.patience and self.patience.patient

    def _plan(self, pending: PendingEnd) -> None:
        pending.deadline = pending.speech_end_at + pending.hold_ms(
            self.config, self._patient, self.patience.continuing)

    def due(self, now: float) -> PendingEnd | None:
        pending = self.pending
        return pending if pending is not None and now >= pending.deadline else None

    def take(self, pending: PendingEnd) -> None:
        """The turn is committed: this end is no longer pending."""
        self.pending = None
        self._committed_end_ms = pending.end_ms
        self.patience.taken(pending.speech_end_at)

    def went_on(self, now: float) -> list[Action]:
        """The person went on after a pause. A pause that only the patient wait held (it
        outlasted the usual one) shows the patience is still needed: it is renewed."""
        pending = self.pending
        if (pending is not None and self._patient
                and now > pending.speech_end_at + pending.hold_ms(self.config)):
            self.patience.renew()
        return self.drop()

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
