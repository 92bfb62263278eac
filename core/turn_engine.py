"""The turn engine: every decision of a conversation, with no threads and no I/O.

Inputs are facts stamped with a time in milliseconds on one clock: the segmenter's
events, transcripts, pieces of reply text, synthesized audio, client messages, ticks.
Outputs are actions, in order, for the session to carry out. Because nothing here
waits, sleeps or reads a clock, tests drive it on a virtual timeline and assert exact
timings (tests/timeline.py).
"""

from __future__ import annotations

from core.end_of_turn import EndOfTurn, PendingEnd
from core.endpointing import Finish
from core.engine_types import (
    Action,
    Cancel,
    Emit,
    EndSegment,
    EngineConfig,
    Generate,
    Phase,
    Record,
)
from core.history import ConversationMemory
from core.providers.base import Message
from core.reply_delivery import ReplyDelivery
from core.reply_turn import ReplyTurn
from core.sentences import SentenceSplitter

VOICE_HOLD_MS = 120  # long enough for the segmenter to confirm speech (3 frames)


class TurnEngine(ReplyDelivery):
    def __init__(self, config: EngineConfig, now: float = 0.0) -> None:
        self.config = config
        self.phase = Phase.IDLE
        self._memory = ConversationMemory(config.history_messages, config.dedup_window_ms)
        self._last_turn = 0
        self._turn: ReplyTurn | None = None  # the committed turn that may still speak
        self._paused: ReplyTurn | None = None  # a reply stopped by a barge-in, maybe resumed
        self._end = EndOfTurn(config)
        self._in_speech = False
        self._ignore_segment = False
        self._listening_since = now
        self._speaking_ended_at: float | None = None

    def configure(self, config: EngineConfig) -> None:
        """New timings and limits for this conversation, from the next decision on."""
        self.config = config
        self._end.config = config

    # ----- queries ------------------------------------------------------------------
    def audio_allowed(self, turn: int) -> bool:
        """May audio of ``turn`` reach the client now? (Checked again at send time.)"""
        current = self._turn
        return current is not None and current.number == turn and current.paused_at is None

    @property
    def history(self) -> tuple[Message, ...]:
        return self._memory.history.messages()

    # ----- client control -----------------------------------------------------------
    def start(self, now: float) -> list[Action]:
        if self.phase is not Phase.IDLE:
            return []
        self._listening_since = now
        return self._set_phase(Phase.LISTENING, None)

    def stop(self, now: float) -> list[Action]:
        actions = self._end.drop()
        turns = [self._turn] + ([self._paused] if self._paused is not self._turn else [])
        for turn in turns:
            if turn is not None:
                actions += self._record_cut(turn, now) if self._playing(turn, now) else []
                actions += [Cancel(turn.number), Emit({"type": "clear", "turn": turn.number,
                                                       "reason": "stopped"})]
        self._turn = self._paused = None
        self._in_speech = False
        return actions + self._set_phase(Phase.IDLE, None)

    def text(self, text: str, now: float) -> list[Action]:
        """A typed message: answered like an utterance whose transcript is known."""
        actions = self._end.drop()
        actions += self._open_turn(now, job=None, base_at=now)
        return actions + self._answer(self._turn, text, now)  # type: ignore[arg-type]

    def playback_done(self, turn: int, now: float) -> list[Action]:
        current = self._turn
        if current is None or current.number != turn:
            return []
        current.playback_reported = True
        return self._maybe_finish(current, now)

    def playback_progress(self, turn: int, played_ms: float) -> None:
        """The client has played ``played_ms`` of ``turn``'s reply audio (not counting a
        thinking cue): what a cut reply is stored with, instead of what was sent."""
        for reply in (self._turn, self._paused):
            if reply is not None and reply.number == turn:
                reply.played_ms = max(reply.played_ms or 0.0, played_ms)

    # ----- segmenter events ---------------------------------------------------------
    def voice_activity(self, now: float) -> list[Action]:
        """A single voiced frame: maybe the start of more words. A reply that is being
        held back waits a little longer, until the segmenter can tell."""
        for turn in (self._turn, self._end.speculative):
            if turn is not None and turn.first_audio_at is None and turn.speak_not_before:
                turn.speak_not_before = max(turn.speak_not_before, now + VOICE_HOLD_MS)
        return []

    def speech_started(self, now: float) -> list[Action]:
        self._in_speech = True
        ended = self._speaking_ended_at
        self._ignore_segment = ended is not None and now - ended < self.config.refractory_ms
        if self._ignore_segment:
            return []
        actions = [Emit({"type": "speech_started"})]
        return actions + self._user_talks_over(now)

    def speech_paused(self, end_ms: int, audio: bytes, now: float) -> list[Action]:
        if self._ignore_segment:
            return []
        return self._end.paused(end_ms, audio, now)

    def speech_resumed(self, now: float) -> list[Action]:
        if self._ignore_segment:
            return []
        return self._end.drop() + self._user_talks_over(now)

    def utterance(self, end_ms: int, audio: bytes, now: float) -> list[Action]:
        """The segmenter's longest wait is over: the turn is committed now at the latest."""
        self._in_speech = False
        if self._ignore_segment:
            self._ignore_segment = False
            return []
        actions, pending = self._end.ended(end_ms, audio, now)
        return actions + self._commit(pending, now) if pending is not None else actions

    def speech_discarded(self, now: float) -> list[Action]:
        self._in_speech = False
        if self._ignore_segment:
            self._ignore_segment = False
            return []
        actions = [*self._end.drop(), Emit({"type": "speech_discarded"})]
        if self._paused is not None:
            actions += self._resume(now)  # a cough or a click: carry on speaking
        elif self.phase is Phase.LISTENING:
            actions += self._set_phase(Phase.LISTENING, None)
        return actions

    # ----- worker results -----------------------------------------------------------
    def transcript(self, job: int, text: str, now: float) -> list[Action]:
        pending = self._end.heard(job, text, now)
        if pending is not None:
            actions = self.tick(now)
            if self._end.pending is pending:  # not committed yet: get the answer ready meanwhile
                actions += self._speculate(pending, now)
            return actions
        turn = self._turn
        if turn is not None and turn.job == job:
            turn.job = None
            turn.mark("transcript_ms", now)
            return self._answer(turn, text, now)
        return []

    def reply_piece(self, turn: int, text: str, now: float) -> list[Action]:
        current = self._live(turn)
        if current is None or not current.generating:
            return []
        current.mark("llm_first_token_ms", now)
        return current.queue(self.config.max_sentences, current.splitter.feed(text), now)

    def reply_finished(self, turn: int, now: float) -> list[Action]:
        current = self._live(turn)
        if current is None or not current.generating:
            return []
        actions = current.queue(self.config.max_sentences, current.splitter.flush(), now)
        if not current.sentences:  # never silence: say so rather than nothing
            actions += current.queue(self.config.max_sentences, [self.config.empty_reply_text], now)
        return actions + current.end_speech()

    def speech_audio(self, turn: int, sentence: int, pcm: bytes, sample_rate: int,
                     now: float) -> list[Action]:
        current = self._live(turn)
        if current is None:
            return []
        current.audio.add(sentence, pcm, sample_rate)
        if not current.due(now):
            return []  # held until the interruption is judged, the turn is committed, or it is due
        actions: list[Action] = []
        if current.first_audio_at is None:
            current.first_audio_at = now
            current.mark("tts_first_audio_ms", now)
            actions.append(Emit({"type": "reply_started", "turn": turn, "sample_rate": sample_rate}))
            actions += self._set_phase(Phase.SPEAKING, turn)
        return actions + current.audio_out(sentence, pcm, sample_rate)

    def speech_finished(self, turn: int, now: float) -> list[Action]:
        current = self._live(turn)
        if current is None:
            return []
        current.synthesized = True
        current.mark("total_ms", now)
        if current.paused_at is not None or not current.committed or current.held:
            return []  # reported once the held audio goes out
        return self._report_done(current) + self._maybe_finish(current, now)

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
        current = self._turn
        if current is None or (turn is not None and current.number != turn) or (
                job is not None and current.job != job):
            return []
        self._memory.not_answered(current.user_text)
        actions: list[Action] = [Cancel(current.number), Emit({
            "type": "error", "code": "provider_failed", "turn": current.number,
            "retryable": retryable, "provider": provider,
            "message": "The assistant could not answer that; please try again.",
        })]
        self._turn = None
        return actions + self._set_phase(Phase.LISTENING, None)

    # ----- time -----------------------------------------------------------------------
    def tick(self, now: float) -> list[Action]:
        actions: list[Action] = []
        pending = self._end.due(now)
        if pending is not None:
            actions += self._commit(pending, now)
        turn = self._turn
        if turn is not None:
            actions += self._release_if_due(turn, now)
            actions += turn.thinking_cue(self.config.cue_audio, self.config.thinking_cue_ms, now)
            actions += self._maybe_finish(turn, now)
        paused = self._paused
        # Words said over the reply that are still being recognized decide for themselves
        # (``_answer``): a slow recognizer must not turn a long interruption into "noise".
        current = self._turn
        hearing_them = current is not None and current is not paused and current.job is not None
        if (paused is not None and not self._in_speech and self._end.pending is None
                and not hearing_them and paused.paused_at is not None
                and now - paused.paused_at >= self.config.false_interruption_ms):
            actions += self._resume(now)
        if (self.config.greeting_after_ms and self._last_turn == 0 and self.phase is Phase.LISTENING
                and not self._in_speech and now - self._listening_since >= self.config.greeting_after_ms):
            actions += self._open_turn(now, job=None, base_at=now)
            actions += self._turn.script(self.config.greeting_text, now)  # type: ignore[arg-type]
        return actions

    # ----- internals: bookkeeping -------------------------------------------------------
    def _live(self, turn: int) -> ReplyTurn | None:
        """The committed or speculative turn with this number, if it may still go on."""
        current = self._turn
        if current is not None and current.number == turn:
            return current
        speculative = self._end.speculative
        if speculative is not None and speculative.number == turn:
            return speculative
        return None

    # ----- internals: the end of a turn -----------------------------------------------
    def _speculate(self, pause: PendingEnd, now: float) -> list[Action]:
        """Generate the answer while the end-of-turn silence is still being confirmed.

        Only from plain listening (no reply on its way or paused, whose fate would be
        decided by this turn), and not when the words trail off: then the person goes
        on more often than not, and the work would be wasted on two busy cores.
        """
        text = (pause.transcript or "").strip()
        if (not self.config.speculative_reply or pause.speculative is not None or not text
                or self._turn is not None or self._paused is not None
                or pause.verdict is Finish.UNFINISHED or self._memory.is_repeat(text, now)):
            return []
        turn = self._new_turn(base_at=pause.speech_end_at, now=now, job=None, committed=False)
        turn.timings["transcript_ms"] = round(now - pause.speech_end_at, 1)
        turn.speak_not_before = pause.speech_end_at + self.config.min_reply_gap_ms
        pause.speculative = turn
        return self._start_reply(turn, text)

    def _commit(self, pause: PendingEnd, now: float) -> list[Action]:
        self._end.take(pause)
        self._in_speech = False
        actions: list[Action] = [
            EndSegment(),
            Emit({"type": "speech_stopped", "silence_ms": round(now - pause.speech_end_at)}),
        ]
        if pause.speculative is not None:
            return actions + self._adopt(pause.speculative, pause, now)
        actions += self._open_turn(now, job=pause.job, base_at=pause.speech_end_at)
        turn = self._turn
        assert turn is not None
        turn.timings["endpoint_ms"] = round(now - pause.speech_end_at, 1)
        if pause.failure is not None:
            message, retryable, provider = pause.failure
            return actions + self.failed(turn.number, None, message, retryable, provider, now)
        # A sentence can stop for a breath: "Tell me about the weather. ... in Paris", or
        # "Can you remind me? ... to call my mother". Its answer is ready early but waits.
        turn.speak_not_before = pause.speech_end_at + self.config.min_reply_gap_ms
        if pause.transcript is not None:
            turn.job = None
            turn.timings["transcript_ms"] = round((pause.transcript_at or now) - pause.speech_end_at, 1)
            actions += self._answer(turn, pause.transcript, now)
        return actions

    def _adopt(self, turn: ReplyTurn, pause: PendingEnd, now: float) -> list[Action]:
        """The silence held: the answer generated ahead becomes the turn."""
        turn.committed = True
        turn.committed_at = now
        turn.timings["endpoint_ms"] = round(now - pause.speech_end_at, 1)
        turn.timings["speculative"] = 1
        self._turn = turn
        self._memory.answering(turn.user_text, now)
        actions = self._set_phase(Phase.THINKING, turn.number)
        actions.append(Record(turn.number, "user", turn.user_text))
        actions.append(Emit({"type": "transcript", "turn": turn.number, "text": turn.user_text,
                             "final": True}))
        actions += [turn.text_event(index) for index in range(len(turn.sentences))]
        return actions + self._release_if_due(turn, now)

    def _open_turn(self, now: float, job: int | None, base_at: float) -> list[Action]:
        actions: list[Action] = []
        old = self._turn
        if old is not None and old is not self._paused:
            # A reply being heard is cut (kept, marked); one not heard yet is replaced.
            heard = self._playing(old, now)
            cut = self._record_cut(old, now) if heard else []
            actions += [*cut, Cancel(old.number), Emit({"type": "clear", "turn": old.number,
                                                        "reason": "barge_in" if heard else "superseded"})]
        self._turn = self._new_turn(base_at=base_at, now=now, job=job, committed=True)
        return actions + self._set_phase(Phase.THINKING, self._last_turn)

    def _new_turn(self, base_at: float, now: float, job: int | None, committed: bool) -> ReplyTurn:
        self._last_turn += 1
        splitter = SentenceSplitter(first_clause_words=self.config.first_clause_words)
        return ReplyTurn(self._last_turn, base_at=base_at, committed_at=now, job=job,
                         committed=committed, splitter=splitter)

    def _answer(self, turn: ReplyTurn, heard: str, now: float) -> list[Action]:
        heard = heard.strip()
        paused = self._paused
        # A reply the person never heard was for words they were still adding to: the
        # new turn answers all of them together.
        unheard = paused is not None and paused.first_audio_at is None and not paused.scripted
        text = f"{paused.user_text} {heard}".strip() if unheard and heard else heard  # type: ignore[union-attr]
        actions: list[Action] = [Record(turn.number, "user", text)] if heard else []
        actions.append(Emit({"type": "transcript", "turn": turn.number, "text": text, "final": True}))
        if not heard:
            if paused is not None:  # noise over the reply: carry on with it
                self._turn = paused
                return actions + self._resume(now)
            return actions + turn.script(self.config.clarify_text, now)
        if self._memory.is_repeat(text, now):
            actions.append(Emit({"type": "ignored", "turn": turn.number, "reason": "repeated"}))
            if paused is not None:
                self._turn = paused
                return actions + self._resume(now)
            self._turn = None
            return actions + self._set_phase(Phase.LISTENING, None)
        if paused is not None:  # a real interruption: the old reply is over for good
            actions.append(Cancel(paused.number))
            if unheard:
                actions.append(Emit({"type": "clear", "turn": paused.number, "reason": "superseded"}))
            else:
                actions += self._record_cut(paused, now)
            self._paused = None
        self._memory.answering(text, now)
        return actions + self._start_reply(turn, text)

    def _start_reply(self, turn: ReplyTurn, text: str) -> list[Action]:
        turn.user_text = text
        turn.generating = True
        memory = self._memory
        return [Generate(turn.number, memory.history.messages(), text, memory.last_reply or None)]
