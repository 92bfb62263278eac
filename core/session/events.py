"""What a session tells the person about itself, beside the conversation's events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.conversation.events import OutputEvent


@dataclass(frozen=True)
class Ready(OutputEvent):
    """The first event of a connection (and of a resumed one)."""

    session_id: str
    resume_token: str = ""
    resume_window_s: float = 0.0
    input_sample_rate: int = 16_000
    output_sample_rate: int = 22_050
    settings: Mapping[str, Any] | None = None
    providers: Mapping[str, str] | None = None
    resumed: bool = False
    # when resumed: the conversation as stored ({turn, role, text, cut}), or without a store
    # the exchanges the assistant remembers ({role, text, cut})
    history: Sequence[Mapping[str, object]] | None = None


@dataclass(frozen=True)
class SettingsApplied(OutputEvent):
    settings: Mapping[str, Any]
    providers: Mapping[str, str]
    output_sample_rate: int


@dataclass(frozen=True)
class ProviderStatusChanged(OutputEvent):
    role: str
    primary: str
    active: str
    state: str  # "fallback", "open" or "closed"
    message: str


@dataclass(frozen=True)
class Pong(OutputEvent):
    t: Any = None


@dataclass(frozen=True)
class ConversationDeleted(OutputEvent):
    """The conversation is forgotten and its stored turns are deleted (committed before
    the client hears of it); ``stored``: there was a store to delete from."""

    stored: bool


@dataclass(frozen=True)
class Advice(OutputEvent):
    """Something the person could do for a better conversation (``code``: "headphones")."""

    code: str
    message: str
