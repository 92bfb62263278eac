"""How a committed reply reaches the person: audio released when due, the reply
reported and finished, held when the person talks over it, then resumed from the cut
sentence (a cough) or recorded as cut (real words).

``Playback`` owns the reply that may still speak (``current``) and the one a barge-in
holds (``held``; usually the same turn until the interruption is judged). Pure like
the engine: no threads, no I/O, no clock.
"""

from __future__ import annotations

from core.conversation.commands import Action, Cancel, Prepare, Record
from core.conversation.config import EngineConfig
from core.conversation.events import (
    Clear,
    ClearReason,
    Phase,
    ReplyDone,
    ReplyResumed,
    ReplyStarted,
)
from core.conversation.history import ConversationMemory
from core.conversation.phase import PhaseTracker
from core.conversation.reply_turn import ReplyTurn, Stage


class Playback:
    def __init__(self, config: EngineConfig, memory: ConversationMemory, phase: PhaseTracker) -> None:
        self.config = config
        self._memory = memory
        self._phase = phase
        self.current: ReplyTurn | None = None  # the committed turn that may still speak
        self.held: ReplyTurn | None = None  # a reply stopped by a barge-in, maybe resumed
        self.speaking_ended_at: float | None = None

    def audio_allowed(self, turn: int) -> bool:
        """May audio of ``turn`` reach the client now? (Checked again at send time.)"""
        current = self.current
        return current is not None and current.number == turn and current.paused_at is None

    def turns(self) -> list[ReplyTurn]:
        """The current and the held turn, each once."""
        turns = [t for t in (self.current, self.held) if t is not None]
        return turns[:1] if len(turns) == 2 and turns[0] is turns[1] else turns

    def nothing_heard(self) -> bool:
        """A reply is on its way and none of it has been heard yet: a short sound now is a
        breath or a click after the question (over a reply being heard, its words decide:
        "stop", or "mhm")."""
        turns = self.turns()
        return bool(turns) and all(turn.first_audio_at is None for turn in turns)

    # ----- audio ------------------------------------------------------------------------
    def audio(self, turn: ReplyTurn, sentence: int, pcm: bytes, sample_rate: int,
              now: float) -> list[Action]:
        """Synthesized audio of ``turn``: sent now, or kept until it is due."""
        kept_back = turn.held
        turn.audio.add(sentence, pcm, sample_rate)
        if not turn.due(now):
            return []  # held until the interruption is judged, the turn is committed, or it is due
        if kept_back:  # due since the last tick: what was kept goes first, this piece after it
            return self.release_if_due(turn, now)
        actions: list[Action] = []
        if turn.first_audio_at is None:
            turn.first_audio_at = now
            turn.mark("tts_first_audio_ms", now)
            actions.append(ReplyStarted(turn.number, sample_rate))
            actions += self._phase.enter(Phase.SPEAKING, turn.number)
        return actions + turn.audio_out(sentence, pcm, sample_rate)

    def release_if_due(self, turn: ReplyTurn, now: float) -> list[Action]:
        """Send audio that was kept back (paused, speculative or not due yet)."""
        if not turn.due(now):
            return []
        actions: list[Action] = []
        for piece in turn.audio.take() if turn.held else []:
            actions += self.audio(turn, piece.sentence, piece.pcm, piece.sample_rate, now)
        if turn.stage is Stage.SYNTHESIZED:
            actions += self.report_done(turn)  # (with no audio at all: nothing to say)
        elif not actions:
            return []
        return actions + self.maybe_finish(turn, now)

    # ----- the end of a reply -------------------------------------------------------------
    def synthesized(self, turn: ReplyTurn, now: float) -> list[Action]:
        """All of ``turn``'s audio exists: report it once it is out."""
        turn.advance(Stage.SYNTHESIZED)
        turn.mark("total_ms", now)
        if turn.paused_at is not None or not turn.committed or turn.held:
            return []  # reported once the held audio goes out
        return self.report_done(turn) + self.maybe_finish(turn, now)

    def played(self, turn: int, now: float) -> list[Action]:
        """The client has played all of ``turn``'s reply."""
        current = self.current
        if current is None or current.number != turn or not current.reached(Stage.REPORTED):
            return []
        current.advance(Stage.PLAYED)
        return self.maybe_finish(current, now)

    def report_done(self, turn: ReplyTurn) -> list[Action]:
        turn.advance(Stage.REPORTED)
        spoken = " ".join(turn.sentences)
        actions: list[Action] = [Record(turn.number, "assistant", spoken)] if spoken else []
        actions.append(ReplyDone(turn.number, spoken, dict(turn.timings)))
        if not turn.scripted and turn.user_text:
            self._memory.replied(turn.user_text, spoken)
            actions.append(Prepare(self._memory.history.messages()))
        return actions

    def maybe_finish(self, turn: ReplyTurn, now: float) -> list[Action]:
        """Back to listening once the reply has been synthesized and played."""
        if (not turn.reached(Stage.SYNTHESIZED) or turn.paused_at is not None
                or self.current is not turn or turn.held):
            return []
        if turn.first_audio_at is not None and not turn.reached(Stage.PLAYED):
            expected_end = turn.playback_start() + turn.audio.total_ms + self.config.playback_grace_ms
            if now < expected_end:
                return []
        self.current = None
        self.speaking_ended_at = now if turn.first_audio_at is not None else None
        return self._phase.enter(Phase.LISTENING, None)

    def playing(self, turn: ReplyTurn, now: float) -> bool:
        """Was the person still hearing ``turn`` (or hearing it when it was paused)?"""
        if turn.first_audio_at is None or turn.reached(Stage.PLAYED):
            return False
        until = turn.paused_at if turn.paused_at is not None else now
        return until < turn.playback_start() + turn.audio.total_ms

    def cut_all(self, now: float, reason: ClearReason) -> list[Action]:
        """Every reply under way ends now: what was heard of it is kept, marked cut."""
        actions: list[Action] = []
        for turn in self.turns():
            playing = self.playing(turn, now)
            actions += self.record_cut(turn, now) if playing else []
            heard = turn.cut_at() if playing or turn.first_audio_at is None else None
            actions += [Cancel(turn.number, heard), Clear(turn.number, reason)]
        self.current = self.held = None
        return actions

    def progress(self, turn: int, played_ms: float) -> None:
        """The client has played ``played_ms`` of ``turn``'s reply audio."""
        for reply in self.turns():
            if reply.number == turn:
                reply.played_ms = max(reply.played_ms or 0.0, played_ms)

    def under_way(self, now: float) -> tuple[ReplyTurn | None, bool]:
        """The reply under way, if any, and whether its audio is being heard now."""
        turn = self.current
        return turn, turn is not None and self.playing(turn, now)

    # ----- barge-in -------------------------------------------------------------------------
    def talked_over(self, now: float) -> list[Action]:
        """The person speaks while a reply is on its way or playing: hold it.

        Whether this was a real interruption is known only later: a real utterance
        replaces the reply, a cough or a click resumes it (``resume``).
        """
        turn = self.current
        if turn is None or turn.paused_at is not None:
            return []
        turn.paused_at = now
        self.held = turn
        actions: list[Action] = []
        if turn.first_audio_at is not None:  # stop the sound at once
            actions.append(Clear(turn.number, ClearReason.BARGE_IN))
        return actions + self._phase.enter(Phase.LISTENING, None)

    def resume(self, now: float) -> list[Action]:
        """Play the interrupted reply again from the start of the sentence that was cut."""
        turn, self.held = self.held, None
        if turn is None or turn.paused_at is None:
            return []
        self.current = turn  # (replacing the placeholder turn opened for the noise, if any)
        if turn.first_audio_at is None:  # nothing was heard yet: just let it go on
            turn.paused_at = None
            return self._phase.enter(Phase.THINKING, turn.number) + self.release_if_due(turn, now)
        from_ms = turn.audio.start_of_sentence_at(max(0.0, turn.heard_ms()))
        turn.paused_at = None
        turn.played_ms = None  # the client reports again, from ``from_ms`` on
        turn.cue_at, turn.cue_ms = None, 0.0  # (the cue was heard long ago)
        turn.first_audio_at = now - from_ms
        if turn.stage is Stage.PLAYED:
            turn.stage = Stage.REPORTED  # to be played again
        actions = [ReplyResumed(turn.number, round(from_ms)),
                   *self._phase.enter(Phase.SPEAKING, turn.number)]
        for piece in turn.audio.pieces_from(from_ms):
            actions += turn.audio_out(piece.sentence, piece.pcm, piece.sample_rate)
        if turn.stage is Stage.SYNTHESIZED:
            actions += self.report_done(turn)
        return actions + self.maybe_finish(turn, now)

    def record_cut(self, turn: ReplyTurn, now: float) -> list[Action]:
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
        if not turn.scripted and turn.user_text and not turn.reached(Stage.SYNTHESIZED):
            self._memory.exchange(turn.user_text, text)  # (a finished reply is there already)
        return [Record(turn.number, "assistant", text, cut=True)]
