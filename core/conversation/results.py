"""What comes back from the provider calls a turn asked for (``core.session.turn_jobs``
runs them): typed inputs the session hands to the engine like any other."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Transcribed:
    job: int
    text: str
    ends_here: float | None = None  # the replies model's chance that the line ends with these words


@dataclass(frozen=True)
class EndJudged:
    """How finished the speech of a transcription job sounds: the turn model's probability
    (0-1), or None when it could not tell (failed, or busy)."""

    job: int
    probability: float | None


@dataclass(frozen=True)
class ReplyPiece:
    turn: int
    text: str


@dataclass(frozen=True)
class ReplyEnded:
    """The reply's text is complete."""

    turn: int


@dataclass(frozen=True)
class SpeechChunk:
    turn: int
    sentence: int
    pcm: bytes = field(repr=False)
    sample_rate: int


@dataclass(frozen=True)
class SpeechEnded:
    """Every sentence of the turn has been synthesized."""

    turn: int


@dataclass(frozen=True)
class JobFailed:
    """A provider failed for this turn (or this transcription job)."""

    turn: int | None
    job: int | None
    message: str
    retryable: bool
    provider: str


# ``JobFailed.provider`` of a reply not started because its budget is spent: the person is
# told that, in the failure's own words (rate_limited), not that a provider failed.
REPLY_BUDGET = "reply_budget"

@dataclass(frozen=True)
class Reheard:
    """The words of a committed turn as the speech-to-speech API answering it heard them:
    they replace the app's own transcript of the turn (shown, stored, remembered)."""

    turn: int
    text: str


JobResult = (Transcribed | EndJudged | ReplyPiece | ReplyEnded | SpeechChunk | SpeechEnded | JobFailed
             | Reheard)
