"""The state of one reply, and the bookkeeping of its audio: what was synthesized,
where each sentence starts, what the person has heard.

The turn engine decides; these classes only remember. Keeping the audio arithmetic
here (held pieces, resume points, the part heard before a barge-in) keeps the
engine's decisions readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.engine_types import AUDIO_CUE, AUDIO_REPLY, Action, Emit, EmitAudio, EndSpeech, Speak
from core.sentences import SentenceSplitter


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
class ReplyAudio:
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
    committed_at: float  # the end-of-turn decision (for a speculative turn: when it is made)
    job: int | None  # transcription still awaited
    committed: bool = True  # False while speculative: generated ahead, not yet the turn
    user_text: str = ""
    scripted: bool = False
    splitter: SentenceSplitter = field(default_factory=SentenceSplitter)
    sentences: list[str] = field(default_factory=list)
    audio: ReplyAudio = field(default_factory=ReplyAudio)
    cue_ms: float = 0.0
    first_audio_at: float | None = None
    generating: bool = False
    speech_ended: bool = False  # EndSpeech sent
    synthesized: bool = False  # the TTS feed is drained
    playback_reported: bool = False
    played_ms: float | None = None  # reply audio the client says has played (phone marks)
    reported: bool = False  # reply_done sent
    paused_at: float | None = None
    speak_not_before: float = 0.0  # a pause that might be mid-sentence: don't answer into it
    cue_sent: bool = False
    announced: set[int] = field(default_factory=set)  # sentences whose audio has begun to go out
    timings: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str, now: float) -> None:
        self.timings.setdefault(name, round(now - self.base_at, 1))

    def due(self, now: float) -> bool:
        """May its audio go out now: committed, not paused, and past its earliest time."""
        return self.committed and self.paused_at is None and now >= self.speak_not_before

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
        if self.generating and len(self.sentences) >= limit:
            actions += self.end_speech()  # long enough for a spoken reply
        return actions

    def text_event(self, sentence: int) -> Emit:
        return Emit({"type": "reply_text", "turn": self.number, "text": self.sentences[sentence],
                     "sentence": sentence})

    def audio_out(self, sentence: int, pcm: bytes, sample_rate: int) -> list[Action]:
        """A piece of the reply to the client. The first piece of each sentence is announced
        (``sentence_start``) so the page shows that sentence as it begins to play."""
        actions: list[Action] = []
        if sentence not in self.announced:
            self.announced.add(sentence)
            actions.append(Emit({"type": "sentence_start", "turn": self.number, "sentence": sentence}))
        actions.append(EmitAudio(self.number, pcm, sample_rate, AUDIO_REPLY))
        return actions

    def script(self, text: str, now: float) -> list[Action]:
        """A fixed reply (greeting, clarifying question) instead of a generated one."""
        self.scripted = True
        self.generating = True
        return self.queue(1, [text], now) + self.end_speech()

    def end_speech(self) -> list[Action]:
        if self.speech_ended:
            return []
        self.generating = False
        self.speech_ended = True
        return [EndSpeech(self.number)]

    def thinking_cue(self, cue: tuple[bytes, int] | None, after_ms: int, now: float) -> list[Action]:
        """A short spoken cue, once, when the reply is still silent ``after_ms`` after the commit."""
        if (cue is None or not after_ms or self.cue_sent or self.scripted
                or self.first_audio_at is not None or self.paused_at is not None
                or now - self.committed_at < after_ms):
            return []
        self.cue_sent = True
        pcm, rate = cue
        self.cue_ms = len(pcm) / 2 / rate * 1000.0
        return [Emit({"type": "thinking", "turn": self.number}),
                EmitAudio(self.number, pcm, rate, AUDIO_CUE)]

    @property
    def held(self) -> bool:
        """Audio exists that has not gone out yet (waiting for its time or a verdict)."""
        return self.first_audio_at is None and bool(self.audio.pieces)

    def heard_ms(self) -> float:
        """How much of the reply the person heard before it was paused (negative while
        the thinking cue was still playing). Counted from when the audio went out, unless
        the client reports what has played (a phone call's marks): audio buffered on the
        way was sent but not heard."""
        if self.first_audio_at is None:
            return 0.0
        until = self.paused_at if self.paused_at is not None else self.first_audio_at
        sent = until - self.first_audio_at - self.cue_ms
        return sent if self.played_ms is None else min(sent, self.played_ms)

    def heard_sentences(self) -> list[str]:
        return self.sentences[: self.audio.sentences_begun_by(self.heard_ms())]

