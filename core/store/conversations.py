"""Every finalized utterance and reply, committed to SQLite as it happens.

One writer thread owns the connection; sessions hand it records through a bounded
queue and never wait on the disk (the audio path must not stall on an fsync). The
database runs in WAL mode, so readers (the admin page, a resumed session) do not block
the writer, and a record committed before a crash (even SIGKILL) is still there.
Deleting a conversation goes through the same queue, so nothing queued before it is
written after it; the writer also applies the retention (``core.store.retention``)
once a minute. The files are private to the user running the server (0600).
"""

from __future__ import annotations

import enum
import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from core.store.retention import PRIVATE_FOLDER, Retention, make_private, prune

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    cut INTEGER NOT NULL DEFAULT 0,
    channel TEXT NOT NULL DEFAULT 'browser',
    at REAL NOT NULL,
    UNIQUE (session_id, turn, role) ON CONFLICT REPLACE
);
CREATE INDEX IF NOT EXISTS turns_at ON turns (at);
"""
RECENT_ROWS_SCANNED = 2_000  # the conversations listed are among those of the latest rows
DEFAULT_QUEUE_ITEMS = 10_000
PRUNE_EVERY_S = 60.0
FAILED_RANGES_KEPT = 256  # failed batches remembered for ``outcome`` (older ones: long settled)
KEEP_ALL = Retention()
_STOP = object()


@dataclass(frozen=True)
class _Delete:
    session_id: str


class StoreError(Exception):
    """The database file cannot be opened or created (path, permissions, not SQLite)."""


class StoreFull(Exception):
    """The writer is too far behind: the record was not taken (the caller counts it)."""


class Written(enum.Enum):
    """What became of a record (``outcome``)."""

    COMMITTED = "committed"
    FAILED = "failed"  # the write was tried and did not land: nothing of it is stored
    PENDING = "pending"  # not written yet (the wait ran out)


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


class ConversationStore:
    def __init__(self, path: str | Path, queue_items: int = DEFAULT_QUEUE_ITEMS,
                 retention: Retention = KEEP_ALL) -> None:
        self.path = Path(path).expanduser()
        self.retention = retention
        self.pruned = 0  # rows deleted by the retention
        self.deleted = 0  # rows deleted on request
        self._pruned_at = 0.0
        try:
            self.path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
            make_private(self.path)
            with closing(self._connect()) as setup:
                setup.execute("PRAGMA journal_mode=WAL")
                setup.executescript(SCHEMA)
            make_private(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot use {self.path} for conversations: {exc}") from exc
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_items)
        self._written = threading.Condition()
        self._accepted = 0
        self._committed = 0
        self.write_errors = 0
        self.last_error_at: float | None = None  # time.time() of the last failed write
        self._failed: deque[tuple[int, int]] = deque(maxlen=FAILED_RANGES_KEPT)  # tickets, first..last
        self._writer = threading.Thread(target=self._write_loop, name="conversation-store", daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
        connection.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a process kill
        return connection

    # ----- from the sessions (never blocks) ---------------------------------------------
    def record(self, session_id: str, turn: int, role: str, text: str, *, cut: bool = False,
               channel: str = "browser") -> int:
        """Queue one finalized utterance or reply; raises ``StoreFull`` if the writer lags.

        Returns the record's ticket for ``wait_written``. A second record of the same turn
        and role (a reply cut after it was reported whole) replaces the first.
        """
        return self._enqueue((session_id, turn, role, text, int(cut), channel, time.time()))

    def delete_conversation(self, session_id: str) -> int:
        """Queue the deletion of every stored turn of ``session_id`` (after what is queued
        already); returns its ticket for ``wait_written``. Raises ``StoreFull``."""
        return self._enqueue(_Delete(session_id))

    def _enqueue(self, item: object) -> int:
        with self._written:
            try:
                self._queue.put_nowait(item)
            except queue.Full as exc:
                raise StoreFull(f"{self._queue.maxsize} records waiting for the disk") from exc
            self._accepted += 1
            return self._accepted

    # ----- the writer ----------------------------------------------------------------------
    def _write_loop(self) -> None:
        connection = self._connect()
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                batch = [item]
                while len(batch) < 256:  # one transaction for what has piled up
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        self._commit(connection, batch)
                        return
                    batch.append(more)
                self._commit(connection, batch)
        finally:
            connection.close()

    def _commit(self, connection: sqlite3.Connection, items: list[object]) -> None:
        try:
            with connection:
                for deletion, group in _runs(items):
                    if deletion:
                        for item in group:
                            assert isinstance(item, _Delete)
                            self.deleted += connection.execute(
                                "DELETE FROM turns WHERE session_id = ?", (item.session_id,)).rowcount
                    else:
                        connection.executemany(
                            "INSERT INTO turns (session_id, turn, role, text, cut, channel, at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", group)
        except sqlite3.Error as exc:
            self.write_errors += len(items)
            self.last_error_at = time.time()
            with self._written:
                self._failed.append((self._committed + 1, self._committed + len(items)))
            log.error("could not store %d change(s): %s", len(items), type(exc).__name__)
        with self._written:
            self._committed += len(items)  # (done with: written, or failed and remembered as such)
            self._written.notify_all()
        self._apply_retention(connection)

    def _apply_retention(self, connection: sqlite3.Connection) -> None:
        now = time.time()
        if now - self._pruned_at < PRUNE_EVERY_S or self.retention == KEEP_ALL:
            return
        self._pruned_at = now
        try:
            removed = prune(connection, self.retention, now)
        except sqlite3.Error as exc:
            log.error("could not apply the retention: %s", type(exc).__name__)
            return
        if removed:
            self.pruned += removed
            log.info("retention: %d stored turn(s) deleted", removed)

    def healthy(self, since: float) -> bool:
        """The writer runs and no write failed after ``since`` (a ``time.time()``)."""
        failed = self.last_error_at
        return self._writer.is_alive() and (failed is None or failed < since)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything queued so far is written; False on timeout or when its
        last record failed."""
        with self._written:
            target = self._accepted
        return self.wait_written(target, timeout_s)

    def wait_written(self, ticket: int, timeout_s: float) -> bool:
        """Wait until the record with this ticket (and all before it) is committed; False
        when it failed or the wait ran out (``outcome`` says which)."""
        return self.outcome(ticket, timeout_s) is Written.COMMITTED

    def outcome(self, ticket: int, timeout_s: float) -> Written:
        """Wait (at most ``timeout_s``) for the record with this ticket to be written."""
        with self._written:
            if not self._written.wait_for(lambda: self._committed >= ticket, timeout_s):
                return Written.PENDING
            if any(first <= ticket <= last for first, last in self._failed):
                return Written.FAILED
            return Written.COMMITTED

    # ----- reading ------------------------------------------------------------------------
    def turns(self, session_id: str, limit: int = 1000) -> list[StoredTurn]:
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT session_id, turn, role, text, cut, channel, at FROM turns "
                "WHERE session_id = ? ORDER BY turn, role = 'assistant' LIMIT ?",
                (session_id, limit)).fetchall()
        return [StoredTurn(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]

    def recent_conversations(self, limit: int = 20) -> list[ConversationSummary]:
        """The conversations with the latest turns, newest first (for the admin page)."""
        try:
            with closing(self._connect()) as connection:
                rows = connection.execute(
                    "SELECT t.session_id, t.channel, COUNT(*), MIN(t.at), MAX(t.at), "
                    "(SELECT text FROM turns l WHERE l.session_id = t.session_id ORDER BY l.at DESC LIMIT 1) "
                    "FROM turns t WHERE t.session_id IN "
                    "(SELECT session_id FROM turns ORDER BY at DESC LIMIT ?) "
                    "GROUP BY t.session_id ORDER BY MAX(t.at) DESC LIMIT ?",
                    (RECENT_ROWS_SCANNED, limit)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read conversations: {exc}") from exc
        return [ConversationSummary(*row) for row in rows]

    def prune_now(self) -> int:
        """Apply the retention at once, from the caller's thread (start-up, tests)."""
        with closing(self._connect()) as connection:
            removed = prune(connection, self.retention, time.time())
        self.pruned += removed
        return removed

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        self._queue.put(_STOP)
        self._writer.join(timeout=10)


def _runs(items: list[object]) -> list[tuple[bool, list[object]]]:
    """The batch cut into runs of deletions and runs of rows, in order."""
    runs: list[tuple[bool, list[object]]] = []
    for item in items:
        deletion = isinstance(item, _Delete)
        if runs and runs[-1][0] == deletion:
            runs[-1][1].append(item)
        else:
            runs.append((deletion, [item]))
    return runs
