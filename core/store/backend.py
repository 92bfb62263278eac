"""What the conversation store needs of a database, so SQLite (the default, one file) and
PostgreSQL (``VOICECHAT_DATABASE_URL``, for several processes or machines) serve it alike.

The store's writer thread holds one connection (``connect``) and hands it batches
(``write``); readers (the admin page, a resume) open their own. Every database error a
backend raises is one of its ``errors``; the store counts and reports those.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from core.store.retention import Retention

Row = tuple[str, int, str, str, int, str, float]  # session_id, turn, role, text, cut, channel, at
# A batch in order: runs of rows to insert (False) and of conversations to delete (True).
Runs = list[tuple[bool, list[Any]]]
RECENT_ROWS_SCANNED = 2_000  # the conversations listed are among those of the latest rows


class StoreError(Exception):
    """The database cannot be opened, created or read (a path, permissions, a server)."""


@dataclass(frozen=True)
class StoredTurn:
    session_id: str
    turn: int
    role: str
    text: str
    cut: bool
    channel: str
    at: float


@dataclass(frozen=True)
class ConversationSummary:
    session_id: str
    channel: str
    turns: int  # stored utterances and replies
    started_at: float
    last_at: float
    last_text: str


class StoreBackend(ABC):
    errors: tuple[type[Exception], ...] = ()
    location: str = ""  # for messages and logs: a path, or a server without its password

    def unreachable(self, error: Exception) -> bool:
        """``error`` says the database cannot be reached now (try again later), not that
        the write itself is wrong."""
        return False

    @abstractmethod
    def connect(self) -> Any:
        """A new connection for one thread."""

    @abstractmethod
    def write(self, connection: Any, runs: Runs) -> int:
        """Insert (a turn stored again replaces the earlier row) and delete, in one
        transaction; returns the rows deleted."""

    @abstractmethod
    def prune(self, connection: Any, retention: Retention, now: float) -> int:
        """Delete what the retention no longer allows; returns the rows deleted."""

    @abstractmethod
    def turns(self, session_id: str, limit: int) -> list[StoredTurn]: ...

    @abstractmethod
    def recent(self, limit: int) -> list[ConversationSummary]: ...
