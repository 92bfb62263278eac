"""What a conversation tells the person: typed output events.

The turn engine and the session produce these; a transport turns them into its own
wire format (the browser's JSON and audio messages, ``core/transport/wire.py``; a
phone call's media frames, ``core/phone/reply.py``), and observers (metrics, the
conversation recorder) read them by type. Field names are the browser protocol's
(docs/protocol.md), so its serializer needs no table of renames.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum, StrEnum
from typing import Any


class Phase(StrEnum):
    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"


class ClearReason(StrEnum):
    BARGE_IN = "barge_in"  # the person spoke or typed over the reply: kept as cut
    SUPERSEDED = "superseded"  # replaced before it was heard
    STOPPED = "stopped"  # the person pressed Stop


class AudioKind(IntEnum):
    REPLY = 1  # the answer
    CUE = 2  # a short "let me think" played while the answer is slow


@dataclass(frozen=True)
class OutputEvent:
    """Anything sent to the person, in the order it was decided."""


@dataclass(frozen=True)
class StateChanged(OutputEvent):
    state: Phase
    turn: int | None


@dataclass(frozen=True)
class UserSpeechStarted(OutputEvent):
    """The person started talking."""


@dataclass(frozen=True)
class UserSpeechStopped(OutputEvent):
    """The turn is committed, ``silence_ms`` after the speech ended."""

    silence_ms: int


@dataclass(frozen=True)
class UserSpeechDiscarded(OutputEvent):
    """A sound too short to be words (a cough, a click)."""


@dataclass(frozen=True)
class Transcript(OutputEvent):
    turn: int
    text: str
    final: bool = True


@dataclass(frozen=True)
class ReplyText(OutputEvent):
    turn: int
    text: str
    sentence: int


@dataclass(frozen=True)
class SentenceStart(OutputEvent):
    """The next audio of ``turn`` is the first of this sentence."""

    turn: int
    sentence: int


@dataclass(frozen=True)
class Thinking(OutputEvent):
    """The answer is slow; a short spoken cue follows."""

    turn: int


@dataclass(frozen=True)
class ReplyStarted(OutputEvent):
    turn: int
    sample_rate: int


@dataclass(frozen=True)
class ReplyAudio(OutputEvent):
    turn: int
    pcm: bytes = field(repr=False)
    sample_rate: int
    kind: AudioKind = AudioKind.REPLY

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate * 1000.0


@dataclass(frozen=True)
class ReplyDone(OutputEvent):
    turn: int
    text: str
    timings: Mapping[str, float]


@dataclass(frozen=True)
class Clear(OutputEvent):
    """Stop playing ``turn`` now and drop any of its audio still on the way."""

    turn: int
    reason: ClearReason


@dataclass(frozen=True)
class ReplyResumed(OutputEvent):
    """The interruption was only a noise: ``turn`` plays again from ``from_ms``."""

    turn: int
    from_ms: int


@dataclass(frozen=True)
class Ignored(OutputEvent):
    turn: int
    reason: str  # "repeated", or "backchannel" ("mhm" over a reply, which goes on)


@dataclass(frozen=True)
class ErrorNotice(OutputEvent):
    """Something went wrong; ``code`` is one of docs/protocol.md's error codes."""

    code: str
    message: str
    retryable: bool | None = None
    turn: int | None = None
    provider: str | None = None


def plain(value: Any) -> Any:
    """An event field as plain data (enums by value, mappings as dicts)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
