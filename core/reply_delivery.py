"""How a committed reply reaches the person, the part of the turn engine that decides it:
audio released when due, the reply reported and finished, held when the person talks
over it, then resumed from the cut sentence (a cough) or recorded as cut (real words).

``TurnEngine`` inherits it; the state used here (the current and the paused turn, the
memory, the phase) is the engine's, declared below. Pure like the engine: no threads,
no I/O, no clock.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from core.engine_types import Action, Emit, EngineConfig, Phase, Prepare, Record
from core.history import ConversationMemory
from core.reply_turn import ReplyTurn


class ReplyDelivery(ABC):
    config: EngineConfig
    phase: Phase
    _memory: ConversationMemory
    _turn: ReplyTurn | None  # the committed turn that may still speak
    _paused: ReplyTurn | None  # a reply stopped by a barge-in, maybe resumed
    _speaking_ended_at: float | None

    @abstractmethod
    def speech_audio(self, turn: int, sentence: int, pcm: bytes, sample_rate: int,
                     now: float) -> list[Action]:
        """Synthesized audio of ``turn``: sent now, or kept until it is due."""

    def _set_phase(self, phase: Phase, turn: int | None) -> list[Action]:
        self.phase = phase
        return [Emit({"type": "state", "state": phase.value, "turn": turn})]

    # ----- internals: the reply -----------------------------------------------------------
    def _report_done(self, turn: ReplyTurn) -> list[Action]:
        turn.reported = True
        spoken = " ".join(turn.sentences)
        actions: list[Action] = [Record(turn.number, "assistant", spoken)] if spoken else []
        actions.append(Emit({"type": "reply_done", "turn": turn.number, "text": spoken,
                             "timings": dict(turn.timings)}))
        if not turn.scripted and turn.user_text:
            self._memory.replied(turn.user_text, spoken)
            actions.append(Prepare(self._memory.history.messages()))
        return actions

    def _maybe_finish(self, turn: ReplyTurn, now: float) -> list[Action]:
        """Back to listening once the reply has been synthesized and played."""
        if not turn.synthesized or turn.paused_at is not None or self._turn is not turn or turn.held:
            return []
        if turn.first_audio_at is not None and not turn.playback_reported:
            expected_end = (turn.first_audio_at + turn.cue_ms + turn.audio.total_ms
                            + self.config.playback_grace_ms)
            if now < expected_end:
                return []
        self._turn = None
        self._speaking_ended_at = now if turn.first_audio_at is not None else None
        return self._set_phase(Phase.LISTENING, None)

    def _release_if_due(self, turn: ReplyTurn, now: float) -> list[Action]:
        """Send audio that was kept back (paused, speculative or not due yet)."""
        if not turn.due(now):
            return []
        actions: list[Action] = []
        for piece in turn.audio.take() if turn.held else []:
            actions += self.speech_audio(turn.number, piece.sentence, piece.pcm, piece.sample_rate, now)
        if turn.synthesized and not turn.reported:
            actions += self._report_done(turn)  # (with no audio at all: nothing to say)
        elif not actions:
            return []
        return actions + self._maybe_finish(turn, now)

    def _playing(self, turn: ReplyTurn, now: float) -> bool:
        """Was the person still hearing ``turn`` (or hearing it when it was paused)?"""
        if turn.first_audio_at is None or turn.playback_reported:
            return False
        until = turn.paused_at if turn.paused_at is not None else now
        return until < turn.first_audio_at + turn.cue_ms + turn.audio.total_ms

    # ----- internals: barge-in ------------------------------------------------------------
    def _user_talks_over(self, now: float) -> list[Action]:
        """The person speaks while a reply is on its way or playing: hold it.

        Whether this was a real interruption is known only later: a real utterance
        replaces the reply, a cough or a click resumes it (``_answer``, ``_resume``).
        """
        turn = self._turn
        if turn is None or turn.paused_at is not None:
            return []
        turn.paused_at = now
        self._paused = turn
        actions: list[Action] = []
        if turn.first_audio_at is not None:  # stop the sound at once
            actions.append(Emit({"type": "clear", "turn": turn.number, "reason": "barge_in"}))
        return actions + self._set_phase(Phase.LISTENING, None)

    def _resume(self, now: float) -> list[Action]:
        """Play the interrupted reply again from the start of the sentence that was cut."""
        turn, self._paused = self._paused, None
        if turn is None or turn.paused_at is None:
            return []
        self._turn = turn  # (replacing the placeholder turn opened for the noise, if any)
        if turn.first_audio_at is None:  # nothing was heard yet: just let it go on
            turn.paused_at = None
            return self._set_phase(Phase.THINKING, turn.number) + self._release_if_due(turn, now)
        from_ms = turn.audio.start_of_sentence_at(max(0.0, turn.heard_ms()))
        turn.paused_at = None
        turn.played_ms = None  # the client reports again, from ``from_ms`` on
        turn.cue_ms = 0.0
        turn.first_audio_at = now - from_ms
        turn.playback_reported = False
        actions = [Emit({"type": "resume", "turn": turn.number, "from_ms": round(from_ms)}),
                   *self._set_phase(Phase.SPEAKING, turn.number)]
        for piece in turn.audio.pieces_from(from_ms):
            actions += turn.audio_out(piece.sentence, piece.pcm, piece.sample_rate)
        if turn.synthesized and not turn.reported:
            actions += self._report_done(turn)
        return actions + self._maybe_finish(turn, now)

    def _record_cut(self, turn: ReplyTurn, now: float) -> list[Action]:
        """What the person heard of an interrupted reply goes into the history and the
        store, marked as cut (the store's row replaces a reply already reported whole)."""
        if turn.first_audio_at is None:
            return []
        if turn.paused_at is None:
            turn.paused_at = now
        heard = turn.heard_sentences()
        if not heard:
            return []
        text = " ".join(heard) + " …"
        if not turn.scripted and turn.user_text and not turn.synthesized:
            self._memory.exchange(turn.user_text, text)  # (a finished reply is there already)
        return [Record(turn.number, "assistant", text, cut=True)]
