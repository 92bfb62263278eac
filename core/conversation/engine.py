"""The turn engine: every decision of a conversation, with no threads and no I/O.

Inputs are facts stamped with a time in milliseconds on one clock: the segmenter's
events, the results of provider calls, client reports, ticks. Outputs are actions, in
order, for the session to carry out: commands (transcribe, generate, speak, cancel...)
and typed events for the person. Because nothing here waits, sleeps or reads a clock,
tests drive it on a virtual timeline and assert exact timings (tests/support/timeline.py).

Its parts: ``EndOfTurn`` (the pending end of a turn), ``Answers`` (turns opened and
answered), ``Playback`` (the reply on its way to the person, and the one a barge-in
holds), ``ConversationMemory`` (history, repeats) and the phase.
"""

from __future__ import annotations

from core.audio.segmenter import (
    SegmentEvent,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    Utterance,
)
from core.conversation.answers import Answers
from core.conversation.commands import Action, Cancel, EndSegment
from core.conversation.config import EngineConfig
from core.conversation.end_of_turn import EndOfTurn, PendingEnd
from core.conversation.events import (
    ClearReason,
    ErrorNotice,
    Phase,
    UserSpeechDiscarded,
    UserSpeechStarted,
    UserSpeechStopped,
)
from core.conversation.history import CarriedConversation, ConversationMemory
from core.conversation.phase import PhaseTracker
from core.conversation.playback import Playback
from core.conversation.reply_turn import ReplyTurn
from core.conversation.results import (
    REPLY_BUDGET,
    EndJudged,
    JobFailed,
    JobResult,
    Transcribed,
)
from core.providers.base import Message

VOICE_HOLD_MS = 120  # long enough for the segmenter to confirm speech (3 frames)


class TurnEngine:
    def __init__(self, config: EngineConfig, now: float = 0.0) -> None:
        self.config = config
        self._phase = PhaseTracker()
        self._memory = ConversationMemory(config.history_messages, config.dedup_window_ms)
        self._playback = Playback(config, self._memory, self._phase)
        self._end = EndOfTurn(config, reply_held=lambda: self._playback.held is not None)
        self._answers = Answers(config, self._memory, self._playback, self._phase, self._end)
        self._in_speech = False
        self._ignore_segment = False
        self._listening_since = now

    def configure(self, config: EngineConfig) -> None:
        """New timings and limits for this conversation, from the next decision on."""
        self.config = config
        self._end.config = config
        self._playback.config = config
        self._answers.config = config

    # ----- queries ------------------------------------------------------------------
    @property
    def phase(self) -> Phase:
        return self._phase.phase

    def audio_allowed(self, turn: int) -> bool:
        """May audio of ``turn`` reach the client now? (Checked again at send time.)"""
        return self._playback.audio_allowed(turn)

    @property
    def history(self) -> tuple[Message, ...]:
        return self._memory.history.messages()

    # ----- inputs by type -------------------------------------------------------------
    def segment(self, event: SegmentEvent, now: float) -> list[Action]:
        """One of the segmenter's events."""
        if isinstance(event, SpeechStarted):
            return self.speech_started(now)
        if isinstance(event, SpeechPaused):
            return self.speech_paused(event.end_ms, event.audio, now)
        if isinstance(event, SpeechResumed):
            return self.speech_resumed(now)
        if isinstance(event, Utterance) and not (event.short and self._playback.nothing_heard()):
            return self.utterance(event.end_ms, event.audio, now, short=event.short)
        return self.speech_discarded(now)  # noise; a breath before the reply: it goes on

    def job_done(self, result: JobResult, now: float) -> list[Action]:
        """What a provider call of a turn brought back."""
        if isinstance(result, Transcribed):
            return self.transcript(result.job, result.text, now, result.ends_here)
        if isinstance(result, EndJudged):
            self._end.sounded(result.job, result.probability, now)
            return self.tick(now)
        if isinstance(result, JobFailed):
            return self.failed(result.turn, result.job, result.message, result.retryable,
                               result.provider, now)
        return self._answers.produced(result, now)  # the reply's text or audio

    # ----- client control -----------------------------------------------------------
    def start(self, now: float) -> list[Action]:
        if self.phase is not Phase.IDLE:
            return []
        self._listening_since = now
        return self._phase.enter(Phase.LISTENING, None)

    def stop(self, now: float) -> list[Action]:
        actions = self._end.drop() + self._playback.cut_all(now, ClearReason.STOPPED)
        self._in_speech = False
        return actions + self._phase.enter(Phase.IDLE, None)

    def interrupt(self, now: float) -> list[Action]:
        """The person asked the reply to stop ("Stop talking"): what they heard of it is
        kept, marked cut, and the conversation goes on listening."""
        if not self._playback.turns():
            return []
        return self._playback.cut_all(now, ClearReason.STOPPED) + self._phase.enter(Phase.LISTENING, None)

    def carried(self) -> CarriedConversation:
        memory = self._memory
        return CarriedConversation(memory.history.messages(), self._answers.last_turn, memory.last_reply)

    def carry_over(self, carried: CarriedConversation) -> None:
        """A conversation parked by another process goes on here."""
        self._memory.history.add(*carried.messages)
        self._memory.last_reply, self._answers.last_turn = carried.last_reply, carried.last_turn

    def forget(self, now: float) -> list[Action]:
        """The person deleted the conversation: stop as ``stop`` does (a cut reply is still
        recorded, so its deletion covers it), then remember nothing."""
        actions = self.stop(now)
        self._memory.forget()
        self._end.patience.forget()
        return actions

    def text(self, text: str, now: float) -> list[Action]:
        """A typed message: answered like an utterance whose transcript is known."""
        actions = self._end.drop()
        actions += self._answers.open(now, job=None, base_at=now)
        return actions + self._answers.answer(self._current(), text, now)

    def playback_done(self, turn: int, now: float) -> list[Action]:
        return self._playback.played(turn, now)

    def playback_progress(self, turn: int, played_ms: float) -> list[Action]:
        """The client has played ``played_ms`` of ``turn``'s reply audio (not counting a
        thinking cue): what a cut reply is stored with, instead of what was sent."""
        self._playback.progress(turn, played_ms)
        return []

    # ----- segmenter events ---------------------------------------------------------
    def voice_activity(self, now: float) -> list[Action]:
        """A single voiced frame: maybe the start of more words. A reply that is being
        held back waits a little longer, until the segmenter can tell."""
        for turn in (self._playback.current, self._end.speculative):
            if turn is not None and turn.first_audio_at is None and turn.speak_not_before:
                turn.voice_hold_until = now + VOICE_HOLD_MS
        return []

    def speech_started(self, now: float) -> list[Action]:
        self._in_speech = True
        ended = self._playback.speaking_ended_at
        self._ignore_segment = ended is not None and now - ended < self.config.refractory_ms
        if self._ignore_segment:
            return []
        self._end.patience.speech_started(now, *self._playback.under_way(now))
        return [UserSpeechStarted(), *self._playback.talked_over(now)]

    def speech_paused(self, end_ms: int, audio: bytes, now: float) -> list[Action]:
        if self._ignore_segment:
            return []
        return self._end.paused(end_ms, audio, now)

    def speech_resumed(self, now: float) -> list[Action]:
        if self._ignore_segment:
            return []
        return self._end.went_on(now) + self._playback.talked_over(now)

    def utterance(self, end_ms: int, audio: bytes, now: float, short: bool = False) -> list[Action]:
        """The segmenter's longest wait is over: the turn is committed now at the latest."""
        self._in_speech = False
        if self._ignore_segment:
            self._ignore_segment = False
            return []
        actions, pending = self._end.ended(end_ms, audio, now, short)
        return actions + self._commit(pending, now) if pending is not None else actions

    def speech_discarded(self, now: float) -> list[Action]:
        self._in_speech = False
        if self._ignore_segment:
            self._ignore_segment = False
            return []
        self._end.patience.nothing_said()
        actions = [*self._end.drop(), UserSpeechDiscarded()]
        if self._playback.held is not None:
            actions += self._playback.resume(now)  # a cough or a click: carry on speaking
        elif self.phase is Phase.LISTENING:
            actions += self._phase.enter(Phase.LISTENING, None)
        return actions

    # ----- results of provider calls -------------------------------------------------
    def transcript(self, job: int, text: str, now: float, ends_here: float | None = None) -> list[Action]:
        pending = self._end.heard(job, text, now, ends_here)
        if pending is not None:
            actions = self.tick(now)
            if self._end.pending is pending:  # not committed yet: get the answer ready meanwhile
                actions += self._answers.speculate(pending, now)
            return actions
        turn = self._playback.current
        if turn is not None and turn.job == job:
            turn.job = None
            turn.mark("transcript_ms", now)
            return self._answers.answer(turn, text, now)
        return []

    def failed(self, turn: int | None, job: int | None, message: str, retryable: bool,
               provider: str, now: float) -> list[Action]:
        """A provider failed for this turn (or this transcription job)."""
        pending = self._end.pending
        if pending is not None and job is not None and pending.job == job:
            pending.failure = (message, retryable, provider)  # reported at commit
            return []
        if pending is not None and pending.speculative is not None and turn == pending.speculative.number:
            pending.speculative = None
            return [Cancel(turn)]  # generated again (a retry) if the turn is committed
        current = self._playback.current
        if current is None or (turn is not None and current.number != turn) or (
                job is not None and current.job != job):
            return []
        self._memory.not_answered(current.user_text)
        budget = provider == REPLY_BUDGET
        actions: list[Action] = [Cancel(current.number), ErrorNotice(
            "rate_limited" if budget else "provider_failed",
            message if budget else "The assistant could not answer that; please try again.",
            retryable=retryable, turn=current.number, provider=None if budget else provider)]
        self._playback.current = None
        return actions + self._phase.enter(Phase.LISTENING, None)

    # ----- time -----------------------------------------------------------------------
    def tick(self, now: float) -> list[Action]:
        actions: list[Action] = []
        pending = self._end.due(now)
        if pending is not None:
            actions += self._commit(pending, now)
        playback = self._playback
        turn = playback.current
        if turn is not None:
            actions += playback.release_if_due(turn, now)
            actions += turn.thinking_cue(self.config.cue_audio, self.config.thinking_cue_ms, now)
            actions += playback.maybe_finish(turn, now)
        if self._false_interruption_over(now):
            actions += playback.resume(now)
        if (self.config.greeting_after_ms and self._answers.last_turn == 0 and self.phase is Phase.LISTENING
                and not self._in_speech and now - self._listening_since >= self.config.greeting_after_ms):
            actions += self._answers.open(now, job=None, base_at=now)
            actions += self._current().script(self.config.greeting_text, now)
        return actions

    def _false_interruption_over(self, now: float) -> bool:
        """The reply held by a barge-in has waited long enough for words that never came.
        (Words said over it still being recognized decide for themselves: ``Answers.answer``.)"""
        held, current = self._playback.held, self._playback.current
        hearing_them = current is not None and current is not held and current.job is not None
        return (held is not None and not self._in_speech and self._end.pending is None
                and not hearing_them and held.paused_at is not None
                and now - held.paused_at >= self.config.false_interruption_ms)

    # ----- internals -------------------------------------------------------------------
    def _current(self) -> ReplyTurn:
        turn = self._playback.current
        assert turn is not None
        return turn

    def _commit(self, pause: PendingEnd, now: float) -> list[Action]:
        self._end.take(pause)
        self._in_speech = False
        actions: list[Action] = [EndSegment(), UserSpeechStopped(round(now - pause.speech_end_at))]
        if pause.speculative is not None:
            return actions + self._answers.adopt(pause.speculative, pause, now)
        actions += self._answers.open(now, job=pause.job, base_at=pause.speech_end_at)
        turn = self._current()
        turn.timings["endpoint_ms"] = round(now - pause.speech_end_at, 1)
        if pause.failure is not None:
            message, retryable, provider = pause.failure
            return actions + self.failed(turn.number, None, message, retryable, provider, now)
        turn.speak_not_before = pause.speak_at(self.config)
        turn.short = pause.short
        if pause.transcript is not None:
            turn.job = None
            turn.timings["transcript_ms"] = round((pause.transcript_at or now) - pause.speech_end_at, 1)
            actions += self._answers.answer(turn, pause.transcript, now)
        return actions
