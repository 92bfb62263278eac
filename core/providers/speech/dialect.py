"""What differs between the speech-to-speech APIs, behind one face.

A ``Dialect`` says how to open a session, how to ask for an answer and how to stop
one, and reads each server message into a few ``Step``s that the conversation
(``core.providers.speech.live``) acts on the same way for every API. The OpenAI
Realtime API names its responses; the Gemini Live API does not (its answers come in
order), so there ``response_id`` is None and the conversation names them itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from core.providers.base import Message
from core.providers.speech.common import Malformed, Other


@dataclass(frozen=True)
class Opened:
    """The session is set up: turns may be sent."""


@dataclass(frozen=True)
class Began:
    response_id: str


@dataclass(frozen=True)
class Voice:
    response_id: str | None
    item_id: str
    pcm: bytes = field(repr=False)
    sample_rate: int


@dataclass(frozen=True)
class Said:
    response_id: str | None
    text: str


@dataclass(frozen=True)
class Heard:
    text: str


@dataclass(frozen=True)
class Finished:
    response_id: str | None
    status: str  # "completed", "cancelled", "failed", "incomplete"


@dataclass(frozen=True)
class Refused:
    """An error event from the API (a rate limit, a bad request)."""

    code: str
    message: str


@dataclass(frozen=True)
class Leaving:
    """The API will close this session soon; ``handle`` resumes it, when given."""

    handle: str | None = None


@dataclass(frozen=True)
class Resumable:
    handle: str


Step = Opened | Began | Voice | Said | Heard | Finished | Refused | Leaving | Resumable | Other | Malformed


def with_history(instructions: str, history: tuple[Message, ...]) -> str:
    """The instructions with the conversation so far summarised after them: how a new
    session (after a drop) knows what was said."""
    if not history:
        return instructions
    lines = [f"{'Person' if m.role == 'user' else 'You'}: {m.text}" for m in history]
    return f"{instructions}\n\nThe conversation so far (carry on from it):\n" + "\n".join(lines)


class Dialect(ABC):
    name: str
    input_rate: int
    output_rate: int
    names_responses: bool  # the API gives each response an id (``Began``)

    def __init__(self, base_url: str, api_key: str, model: str, voice: str) -> None:
        self._base_url = base_url
        self._api_key = api_key  # (sent in a header; never logged)
        self._model = model
        self._voice = voice

    @abstractmethod
    def url(self) -> str: ...

    @abstractmethod
    def headers(self) -> list[str]:
        """The connection's headers (the key among them: never logged)."""

    @abstractmethod
    def opening(self, instructions: str, history: tuple[Message, ...], handle: str | None) -> list[str]:
        """The messages that set a new session up."""

    @abstractmethod
    def read(self, message: str | bytes) -> list[Step]:
        """A server message as steps; never raises (a bad one is ``Malformed``)."""

    @abstractmethod
    def ask(self, audio: bytes | None, text: str | None) -> list[str]:
        """Ask for an answer to the person's ``audio`` (PCM16 at ``input_rate``) or typed ``text``."""

    @abstractmethod
    def stop(self, response_id: str | None, item_id: str | None, heard_ms: int | None) -> list[str]:
        """Stop a response still being generated (``response_id``) and keep in the API's
        context only the ``heard_ms`` the person heard of its item."""
