"""Turns and their answers: what the person said becomes a reply, a clarifying
question, nothing (the same words again), or the reply they talked over, resumed.

``Answers`` numbers the turns and opens them (replacing or cutting a reply still on
its way), answers a committed turn's words, prepares an answer ahead while the
end-of-turn silence is still being confirmed, and takes the reply's text and audio as
they are produced. Pure like the engine that owns it.
"""

from __future__ import annotations

from core.conversation.commands import Action, Cancel, Generate, Record
from core.conversation.config import EngineConfig
from core.conversation.end_of_turn import EndOfTurn, PendingEnd
from core.conversation.endpointing import Finish, is_backchannel
from core.conversation.events import Clear, ClearReason, Ignored, Phase, Transcript, UserSpeechDiscarded
from core.conversation.history import ConversationMemory
from core.conversation.phase import PhaseTracker
from core.conversation.playback import Playback
from core.conversation.reply_turn import ReplyTurn, Stage
from core.conversation.results import Reheard, ReplyEnded, ReplyPiece, SpeechChunk, SpeechEnded
from core.conversation.sentences import SentenceSplitter


class Answers:
    def __init__(self, config: EngineConfig, memory: ConversationMemory, playback: Playback,
                 phase: PhaseTracker, end: EndOfTurn) -> None:
        self.config = config
        self._memory = memory
        self._playback = playback
        self._phase = phase
        self._end = end
        self.last_turn = 0  # the number of the latest turn opened (0: none yet)

    def open(self, now: float, job: int | None, base_at: float) -> list[Action]:
        """A new committed turn becomes the current one."""
        actions: list[Action] = []
        playback = self._playback
        old = playback.current
        if old is not None and old is not playback.held:
            # A reply being heard is cut (kept, marked); one not heard yet is replaced.
            heard = playback.playing(old, now)
            cut = playback.record_cut(old, now) if heard else []
            reason = ClearReason.BARGE_IN if heard else ClearReason.SUPERSEDED
            actions += [*cut, Cancel(old.number, old.cut_at() if heard else 0.0), Clear(old.number, reason)]
        playback.current = self._new_turn(base_at=base_at, committed_at=now, job=job)
        return actions + self._phase.enter(Phase.THINKING, self.last_turn)

    def answer(self, turn: ReplyTurn, heard: str, now: float) -> list[Action]:
        """The words of the committed ``turn`` are known: decide what to say."""
        heard = heard.strip()
        playback = self._playback
        held = playback.held
        # A reply the person never heard was for words they were still adding to: the
        # new turn answers all of them together.
        unheard = held is not None and held.first_audio_at is None and not held.scripted
        text = f"{held.user_text} {heard}".strip() if held is not None and unheard and heard else heard
        if not heard and turn.short:  # a click or a cough, not a word: as if never heard
            playback.current = held
            if held is not None:
                return [UserSpeechDiscarded(), *playback.resume(now)]
            return [UserSpeechDiscarded(), *self._phase.enter(Phase.LISTENING, None)]
        if held is not None and not unheard and is_backchannel(heard):  # "mhm", "yeah": go on
            playback.current = held
            return [Ignored(turn.number, "backchannel"), *playback.resume(now)]
        actions: list[Action] = [Record(turn.number, "user", text)] if heard else []
        actions.append(Transcript(turn.number, text))
        if not heard:
            if held is not None:  # noise over the reply: carry on with it
                playback.current = held
                return actions + playback.resume(now)
            return actions + turn.script(self.config.clarify_text, now)
        if self._memory.is_repeat(text, now):
            actions.append(Ignored(turn.number, "repeated"))
            if held is not None:
                playback.current = held
                return actions + playback.resume(now)
            playback.current = None
            return actions + self._phase.enter(Phase.LISTENING, None)
        if held is not None:  # a real interruption: the old reply is over for good
            actions.append(Cancel(held.number, 0.0 if unheard else held.cut_at()))
            if unheard:
                actions.append(Clear(held.number, ClearReason.SUPERSEDED))
            else:
                actions += playback.record_cut(held, now)
            playback.held = None
        self._memory.answering(text, now)
        return actions + self._start_reply(turn, text)

    def speculate(self, pause: PendingEnd, now: float) -> list[Action]:
        """Generate the answer while the end-of-turn silence is still being confirmed.

        Only from plain listening (no reply on its way or paused, whose fate would be
        decided by this turn), and not when the words trail off: then the person goes
        on more often than not, and the work would be wasted on two busy cores.
        """
        text = (pause.transcript or "").strip()
        if (not self.config.speculative_reply or pause.speculative is not None or not text
                or self._playback.current is not None or self._playback.held is not None
                or pause.verdict is Finish.UNFINISHED or self._memory.is_repeat(text, now)):
            return []
        turn = self._new_turn(base_at=pause.speech_end_at, committed_at=None, job=None)
        turn.timings["transcript_ms"] = round(now - pause.speech_end_at, 1)
        turn.speak_not_before = pause.speak_at(self.config)
        pause.speculative = turn
        return self._start_reply(turn, text)

    def adopt(self, turn: ReplyTurn, pause: PendingEnd, now: float) -> list[Action]:
        """The silence held: the answer generated ahead becomes the turn."""
        turn.committed_at = now
        turn.speak_not_before = pause.speak_at(self.config)  # (the sound may have been heard since)
        turn.timings["endpoint_ms"] = round(now - pause.speech_end_at, 1)
        turn.timings["speculative"] = 1
        self._playback.current = turn
        self._memory.answering(turn.user_text, now)
        actions = self._phase.enter(Phase.THINKING, turn.number)
        actions.append(Record(turn.number, "user", turn.user_text))
        actions.append(Transcript(turn.number, turn.user_text))
        actions += [turn.text_event(index) for index in range(len(turn.sentences))]
        return actions + self._playback.release_if_due(turn, now)

    def produced(self, result: ReplyPiece | ReplyEnded | SpeechChunk | SpeechEnded | Reheard,
                 now: float) -> list[Action]:
        """A piece of the reply's text, its end, a piece of its audio, or the end of that
        (or the person's words as the speech-to-speech API answering them heard them)."""
        if isinstance(result, Reheard):
            return self.reheard(result)
        turn = self.live(result.turn)
        if turn is None:
            return []
        if isinstance(result, SpeechChunk):
            return self._playback.audio(turn, result.sentence, result.pcm, result.sample_rate, now)
        if isinstance(result, SpeechEnded):
            return self._playback.synthesized(turn, now)
        if not turn.writing:
            return []
        limit = self.config.max_sentences
        if isinstance(result, ReplyPiece):
            turn.mark("llm_first_token_ms", now)
            return turn.queue(limit, turn.splitter.feed(result.text), now)
        actions = turn.queue(limit, turn.splitter.flush(), now)
        if not turn.sentences:  # never silence: say so rather than nothing
            actions += turn.queue(limit, [self.config.empty_reply_text], now)
        return actions + turn.end_speech()

    def reheard(self, heard: Reheard) -> list[Action]:
        """A speech-to-speech API's own transcription of a spoken turn it is answering: its
        words replace the app's while the reply is under way (a reply already reported
        keeps the words it was remembered with)."""
        text = heard.text.strip()
        turn = self.live(heard.turn)
        if turn is None or not text or text == turn.user_text or turn.reached(Stage.REPORTED):
            return []
        turn.user_text = text
        return [Record(turn.number, "user", text), Transcript(turn.number, text)]

    def live(self, turn: int) -> ReplyTurn | None:
        """The committed, held or speculative turn with this number, if it may still go on.
        (A held reply keeps what it is given while the words said over it are judged: it
        may go on.)"""
        for reply in self._playback.turns():
            if reply.number == turn:
                return reply
        speculative = self._end.speculative
        if speculative is not None and speculative.number == turn:
            return speculative
        return None

    def _new_turn(self, base_at: float, committed_at: float | None, job: int | None) -> ReplyTurn:
        self.last_turn += 1
        splitter = SentenceSplitter(first_clause_words=self.config.first_clause_words)
        stage = Stage.HEARING if job is not None else Stage.WRITING
        return ReplyTurn(self.last_turn, base_at=base_at, committed_at=committed_at, job=job,
                         stage=stage, splitter=splitter)

    def _start_reply(self, turn: ReplyTurn, text: str) -> list[Action]:
        turn.start_writing(text)
        memory = self._memory
        return [Generate(turn.number, memory.history.messages(), text, memory.last_reply or None,
                         job=turn.heard_job)]
