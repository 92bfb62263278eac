"""Where a session's output goes: the transport's side of the session's outbox."""

from __future__ import annotations

from typing import Protocol

from core.conversation.events import OutputEvent


class OutputPort(Protocol):
    def deliver(self, event: OutputEvent) -> None:
        """Send one event to the person, in its transport's own form. Called on the
        session's send thread only, one event at a time, in order; raises
        ``ConnectionError`` (or ``OSError``) once the peer is gone."""
