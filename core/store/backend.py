"""What the conversation store needs of a database, so SQLite (the default, one file) and
PostgreSQL (``VOICECHAT_DATABASE_URL``, for several processes or machines) serve it alike.

The store's writer thread holds one connection (``connect``) and hands it batches
(``write``); readers (the admin page, a resume) open their own. Every database error a
backend raises is one of its ``errors``; the store counts and reports those.
"""

from __future__ import annotations

import json
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


@dataclass(frozen=True)
class MinuteRow:
    """One server process's figures over one minute (the admin page's history)."""

    minute: float  # its start, time.time()
    process: str
    turns: int
    errors: int
    sessions: int | None  # the most open at once
    cpu_percent: float | None
    rss_bytes: int | None
    stage_values: dict[str, list[float]]  # spoken turns' stage timings (ms), a bounded sample


MINUTE_COLUMNS = "minute, process, turns, errors, sessions, cpu_percent, rss_bytes, stage_values"


def minute_values(row: MinuteRow) -> tuple[Any, ...]:
    return (row.minute, row.process, row.turns, row.errors, row.sessions, row.cpu_percent, row.rss_bytes,
            json.dumps(row.stage_values, separators=(",", ":")))


def minute_row(values: tuple[Any, ...]) -> MinuteRow:
    minute, process, turns, errors, sessions, cpu, rss, stages = values
    return MinuteRow(float(minute), process, int(turns), int(errors), sessions,
                     None if cpu is None else float(cpu), rss, json.loads(stages))


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

    @abstractmethod
    def write_minutes(self, connection: Any, rows: list[MinuteRow], older_than: float) -> None:
        """Store ``rows`` (a minute written again replaces the earlier row) and delete the
        minutes before ``older_than``, in one transaction."""

    @abstractmethod
    def minutes(self, since: float) -> list[MinuteRow]:
        """Every process's minutes from ``since``, oldest first."""
