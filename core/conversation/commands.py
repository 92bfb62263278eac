"""What the turn engine asks the session to do (commands), beside what it tells the
person (``core.conversation.events``). The engine returns both, in order, as actions."""

from __future__ import annotations

from dataclasses import dataclass

from core.conversation.events import OutputEvent
from core.providers.base import Message


@dataclass(frozen=True)
class Transcribe:
    job: int
    audio: bytes
    weigh: bool = False  # and ask the replies model if the words end the line (``Transcribed.ends_here``)


@dataclass(frozen=True)
class JudgeEnd:
    """Ask the turn model whether ``audio`` sounds like the end of a turn (``EndJudged``)."""

    job: int
    audio: bytes


@dataclass(frozen=True)
class DropTranscription:
    """The result of this job will not be needed (cancel it if it has not started)."""

    job: int


@dataclass(frozen=True)
class Generate:
    turn: int
    history: tuple[Message, ...]
    text: str
    avoid: str | None  # the previous reply, which must not be repeated word for word
    job: int | None = None  # the transcription whose audio the turn was (None: typed)


@dataclass(frozen=True)
class Prepare:
    """The history changed: let the LLM get ready for the next turn (off its path)."""

    history: tuple[Message, ...]


@dataclass(frozen=True)
class Speak:
    """Synthesize this sentence after the turn's earlier ones."""

    turn: int
    text: str


@dataclass(frozen=True)
class EndSpeech:
    """No more sentences for this turn."""

    turn: int


@dataclass(frozen=True)
class Cancel:
    """Stop generating and synthesizing for this turn. ``heard_ms``: how much of its audio
    the person heard when it was cut (0: none of it); None when it was not cut."""

    turn: int
    heard_ms: float | None = None


@dataclass(frozen=True)
class Record:
    """A finalized utterance or reply, for the conversation store (``cut``: interrupted,
    ``text`` is then what the person heard)."""

    turn: int
    role: str  # "user" or "assistant"
    text: str
    cut: bool = False


@dataclass(frozen=True)
class EndSegment:
    """The turn is committed: speech from now on is a new segment for the segmenter."""


Command = (Transcribe | JudgeEnd | DropTranscription | Generate | Prepare | Speak | EndSpeech | Cancel
           | EndSegment | Record)
Action = Command | OutputEvent
