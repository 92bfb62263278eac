"""The state of one reply, and the bookkeeping of its audio: what was synthesized,
where each sentence starts, what the person has heard.

The turn engine and its playback decide; these classes only remember. A reply moves
through one lifecycle (``Stage``); the moments that matter for timing and for what
was heard are kept as timestamps (committed, first audio out, paused, cue sent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from core.conversation.commands import Action, EndSpeech, Speak
from core.conversation.events import (
    AudioKind,
    ReplyAudio,
    ReplyText,
    SentenceStart,
    Thinking,
)
from core.conversation.sentences import SentenceSplitter


class Stage(IntEnum):
    """How far a reply has come. It only moves forward, except that a reply resumed
    after a false interruption is played again (``PLAYED`` back to ``REPORTED``)."""

    HEARING = 1  # committed; the person's words are still being transcribed
    WRITING = 2  # the reply text is being generated (or a scripted reply queued)
    WRITTEN = 3  # every sentence has gone to synthesis
    SYNTHESIZED = 4  # all of its audio exists
    REPORTED = 5  # reply_done was sent
    PLAYED = 6  # the client says it has played all of it


@dataclass(frozen=True)
class AudioPiece:
    offset_ms: float  # where it starts in the reply's audio
    sentence: int
    pcm: bytes
    sample_rate: int

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate * 1000.0


@dataclass
class ReplyAudioLog:
    """Every piece of a reply's audio, kept until the turn ends (for resuming)."""

    pieces: list[AudioPiece] = field(default_factory=list)
    sentence_starts: list[float] = field(default_factory=list)
    total_ms: float = 0.0

    def add(self, sentence: int, pcm: bytes, sample_rate: int) -> AudioPiece:
        if len(self.sentence_starts) <= sentence:
            self.sentence_starts.append(self.total_ms)
        piece = AudioPiece(self.total_ms, sentence, pcm, sample_rate)
        self.pieces.append(piece)
        self.total_ms += piece.duration_ms
        return piece

    def take(self) -> list[AudioPiece]:
        """All pieces, forgetting them (they are about to be added again as sent)."""
        pieces = self.pieces
        self.pieces, self.sentence_starts, self.total_ms = [], [], 0.0
        return pieces

    def start_of_sentence_at(self, heard_ms: float) -> float:
        """Where the sentence playing at ``heard_ms`` begins (the point to resume from)."""
        start = 0.0
        for offset in self.sentence_starts:
            if offset <= heard_ms:
                start = offset
        return start

    def pieces_from(self, offset_ms: float) -> list[AudioPiece]:
        return [p for p in self.pieces if p.offset_ms >= offset_ms]

    def sentences_begun_by(self, heard_ms: float) -> int:
        """How many sentences had started playing by ``heard_ms``."""
        return sum(1 for offset in self.sentence_starts if offset <= heard_ms)


@dataclass
class ReplyTurn:
    number: int
    base_at: float  # timings are measured from here: the end of the speech, or the request
    committed_at: float | None  # the end-of-turn decision; None while speculative
    job: int | None  # transcription still awaited
    stage: Stage = Stage.HEARING
    user_text: str = ""
    scripted: bool = False  # a fixed reply (greeting, clarifying question), not generated
    short: bool = False  # from a short voiced stretch: no words heard means nothing was said
    splitter: SentenceSplitter = field(default_factory=SentenceSplitter)
    sentences: list[str] = field(default_factory=list)
    audio: ReplyAudioLog = field(default_factory=ReplyAudioLog)
    cue_at: float | None = None  # the thinking cue went out
    cue_ms: float = 0.0  # its length, played before the reply's audio
    first_audio_at: float | None = None
    paused_at: float | None = None  # held by the person talking over it
    played_ms: float | None = None  # reply audio the client says has played (phone marks)
    speak_not_before: float = 0.0  # a pause that might be mid-sentence: don't answer into it
    voice_hold_until: float = 0.0  # a voiced frame was just heard: maybe more words coming
    announced: set[int] = field(default_factory=set)  # sentences whose audio has begun to go out
    timings: dict[str, float] = field(default_factory=dict)
    heard_job: int | None = None  # the transcription of the person's words (kept after it came)

    def __post_init__(self) -> None:
        self.heard_job = self.job

    @property
    def committed(self) -> bool:
        return self.committed_at is not None

    @property
    def writing(self) -> bool:
        return self.stage is Stage.WRITING

    def reached(self, stage: Stage) -> bool:
        return self.stage >= stage

    def advance(self, stage: Stage) -> None:
        self.stage = max(self.stage, stage)

    def mark(self, name: str, now: float) -> None:
        self.timings.setdefault(name, round(now - self.base_at, 1))

    def due(self, now: float) -> bool:
        """May its audio go out now: committed, not paused, and past its earliest time."""
        return (self.committed and self.paused_at is None and now >= self.speak_not_before
                and now >= self.voice_hold_until)

    def queue(self, max_sentences: int, sentences: list[str], now: float) -> list[Action]:
        """Speak these pieces next, up to the reply's length limit."""
        actions: list[Action] = []
        limit = max_sentences + self.splitter.clauses  # a first clause is extra
        for sentence in sentences:
            if len(self.sentences) >= limit:
                break
            self.mark("llm_first_sentence_ms", now)
            self.sentences.append(sentence)
            if self.committed:  # a speculative turn shows its text when it is adopted
                actions.append(self.text_event(len(self.sentences) - 1))
            actions.append(Speak(self.number, sentence))
        if self.writing and len(self.sentences) >= limit:
            actions += self.end_speech()  # long enough for a spoken reply
        return actions

    def text_event(self, sentence: int) -> ReplyText:
        return ReplyText(self.number, self.sentences[sentence], sentence)

    def audio_out(self, sentence: int, pcm: bytes, sample_rate: int) -> list[Action]:
        """A piece of the reply to the client. The first piece of each sentence is announced
        (``SentenceStart``) so the page shows that sentence as it begins to play."""
        actions: list[Action] = []
        if sentence not in self.announced:
            self.announced.add(sentence)
            actions.append(SentenceStart(self.number, sentence))
        actions.append(ReplyAudio(self.number, pcm, sample_rate, AudioKind.REPLY))
        return actions

    def start_writing(self, text: str) -> None:
        self.user_text = text
        self.advance(Stage.WRITING)

    def script(self, text: str, now: float) -> list[Action]:
        """A fixed reply (greeting, clarifying question) instead of a generated one."""
        self.scripted = True
        self.advance(Stage.WRITING)
        return self.queue(1, [text], now) + self.end_speech()

    def end_speech(self) -> list[Action]:
        """No more sentences. A reply with none has nothing to synthesize: it is
        synthesized at once (the engine reports it on its next look)."""
        if self.reached(Stage.WRITTEN):
            return []
        if not self.sentences:
            self.advance(Stage.SYNTHESIZED)
            return []
        self.advance(Stage.WRITTEN)
        return [EndSpeech(self.number)]

    def thinking_cue(self, cue: tuple[bytes, int] | None, after_ms: int, now: float) -> list[Action]:
        """A short spoken cue, once, when the reply is still silent ``after_ms`` after the commit."""
        if (cue is None or not after_ms or self.cue_at is not None or self.scripted
                or self.committed_at is None or self.first_audio_at is not None
                or self.paused_at is not None or now - self.committed_at < after_ms):
            return []
        self.cue_at = now
        pcm, rate = cue
        self.cue_ms = len(pcm) / 2 / rate * 1000.0
        return [Thinking(self.number), ReplyAudio(self.number, pcm, rate, AudioKind.CUE)]

    def playback_start(self) -> float:
        """When the client began to play the reply's audio (it has gone out): when it went
        out, or when the thinking cue queued before it had finished, whichever is later."""
        assert self.first_audio_at is not None
        if self.cue_at is None:
            return self.first_audio_at
        return max(self.first_audio_at, self.cue_at + self.cue_ms)

    @property
    def held(self) -> bool:
        """Audio exists that has not gone out yet (waiting for its time or a verdict)."""
        return self.first_audio_at is None and bool(self.audio.pieces)

    def heard_ms(self) -> float:
        """How much of the reply the person heard before it was paused (negative while
        the thinking cue was still playing). Counted from when its playing began, unless
        the client reports what has played (a phone call's marks): audio buffered on the
        way was sent but not heard."""
        if self.first_audio_at is None:
            return 0.0
        until = self.paused_at if self.paused_at is not None else self.first_audio_at
        sent = until - self.playback_start()
        return sent if self.played_ms is None else min(sent, self.played_ms)

    def cut_at(self) -> float:
        """How much of it was heard, for a ``Cancel`` of a reply cut while playing."""
        return max(0.0, self.heard_ms()) if self.first_audio_at is not None else 0.0

    def heard_sentences(self) -> list[str]:
        return self.sentences[: self.audio.sentences_begun_by(self.heard_ms())]
