"""The speech-to-speech role: one model hears the person's turn and answers aloud.

A ``SpeechProvider`` opens one ``SpeechConversation`` per session (a socket to the API,
kept open across turns). The session asks it to answer a turn and to cancel one; what
the API says comes back as typed ``SpeechEvent``s on the conversation's own thread,
each naming the app's turn. The app keeps the turn-taking: it decides when a turn
ends and when a reply is talked over; the API only answers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from core.providers.base import Message


@dataclass(frozen=True)
class SpeechAudio:
    turn: int
    pcm: bytes = field(repr=False)  # PCM16 mono
    sample_rate: int


@dataclass(frozen=True)
class SpeechText:
    """A piece of the transcript of what the API is saying."""

    turn: int
    text: str


@dataclass(frozen=True)
class SpeechHeard:
    """The person's words in a spoken turn, as the API's own transcription heard them
    (Gemini's come in pieces: ``text`` is all of them so far)."""

    turn: int
    text: str


@dataclass(frozen=True)
class SpeechDone:
    turn: int


@dataclass(frozen=True)
class SpeechFailed:
    """The turn will get no (more) answer from the API. ``spoke``: some of its audio had
    already been handed on."""

    turn: int
    message: str
    retryable: bool
    spoke: bool


SpeechEvent = SpeechAudio | SpeechText | SpeechHeard | SpeechDone | SpeechFailed
Listener = Callable[[SpeechEvent], None]


@dataclass(frozen=True)
class SpeechState:
    """How the conversation's connection stands, for ``provider_status`` and the admin."""

    state: str  # "connecting", "ready", "reconnecting", "down", "refused" (the key), "closed"
    reconnects: int = 0
    malformed: int = 0  # server messages that could not be read (each logged, then skipped)
    ignored: int = 0  # server events of types this app does not act on (or does not know)
    late_deltas: int = 0  # audio of cancelled responses dropped
    stalls: int = 0  # responses that went quiet past the response timeout
    errors: int = 0  # error events from the API
    detail: str = ""


class SpeechConversation(ABC):
    @abstractmethod
    def respond(self, turn: int, audio: bytes | None, text: str) -> None:
        """Answer ``turn``: the person's ``audio`` (PCM16, 16 kHz; None for a typed turn)
        and ``text``, their words as the app heard them (sent when there is no audio, and
        kept for the summary a new session starts from). Raises ``ProviderError`` at once
        when it cannot be sent (not connected, queue full)."""

    @abstractmethod
    def cancel(self, turn: int, heard_ms: float | None) -> None:
        """Stop answering ``turn``; the API keeps only the ``heard_ms`` the person heard
        of it (None: nothing of it was played)."""

    @abstractmethod
    def state(self) -> SpeechState:
        """The connection's state and counters."""

    @abstractmethod
    def close(self) -> None:
        """Close the socket and join the threads; nothing is delivered after it returns."""


class SpeechProvider(ABC):
    name: str = "speech"
    output_rate: int = 24_000

    @abstractmethod
    def open(self, instructions: str, history: tuple[Message, ...], listener: Listener) -> SpeechConversation:
        """A conversation that starts from ``history`` and tells ``listener`` what happens."""
