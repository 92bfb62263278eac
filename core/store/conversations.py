"""Every finalized utterance and reply, committed as it happens: to one SQLite file by
default, or to PostgreSQL (``VOICECHAT_DATABASE_URL``) when several processes share it.

One writer thread owns the connection; sessions hand it records through a bounded
queue and never wait on the database (the audio path must not stall on an fsync or a
network). Deleting a conversation goes through the same queue, so nothing queued before
it is written after it; the writer also applies the retention (``core.store.retention``)
once a minute. A batch that fails is remembered as failed (``outcome``), never counted
as written; the writer then opens a new connection for the next batch, so a database
that comes back is used again without a restart. The database itself is a backend
(``core.store.backend``): ``sqlite_backend`` or ``postgres_backend``.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.store.backend import ConversationSummary, StoreBackend, StoredTurn, StoreError
from core.store.retention import Retention
from core.store.sqlite_backend import SQLiteBackend

log = logging.getLogger(__name__)

DEFAULT_QUEUE_ITEMS = 10_000
PRUNE_EVERY_S = 60.0
FAILED_RANGES_KEPT = 256  # failed batches remembered for ``outcome`` (older ones: long settled)
RETRY_FIRST_S = 0.5  # a database out of reach is tried again after this, then twice as long...
RETRY_MAX_S = 5.0  # ...up to this
KEEP_ALL = Retention()
_STOP = object()

__all__ = ["ConversationStore", "ConversationSummary", "StoreError", "StoreFull", "StoredTurn", "Written",
           "open_backend"]


@dataclass(frozen=True)
class _Delete:
    session_id: str


class StoreFull(Exception):
    """The writer is too far behind: the record was not taken (the caller counts it)."""


class Written(enum.Enum):
    """What became of a record (``outcome``)."""

    COMMITTED = "committed"
    FAILED = "failed"  # the write was tried and did not land: nothing of it is stored
    PENDING = "pending"  # not written yet (the wait ran out)


def open_backend(location: str | Path | StoreBackend) -> StoreBackend:
    """A backend for a SQLite path or a ``postgresql://`` URL (raises ``StoreError``)."""
    if isinstance(location, StoreBackend):
        return location
    if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
        from core.store.postgres_backend import PostgresBackend  # (psycopg only when asked for)

        return PostgresBackend(location)
    return SQLiteBackend(location)


class ConversationStore:
    def __init__(self, location: str | Path | StoreBackend, queue_items: int = DEFAULT_QUEUE_ITEMS,
                 retention: Retention = KEEP_ALL) -> None:
        """``location``: a SQLite file's path, a ``postgresql://`` URL, or a backend."""
        self._backend = open_backend(location)
        self.path = getattr(self._backend, "path", None)  # (a SQLite store's file)
        self.location = self._backend.location
        self.retention = retention
        self.pruned = 0  # rows deleted by the retention
        self.deleted = 0  # rows deleted on request
        self._pruned_at = 0.0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_items)
        self._written = threading.Condition()
        self._accepted = 0
        self._committed = 0
        self.write_errors = 0
        self.last_error_at: float | None = None  # time.time() of the last failed write
        self._failed: deque[tuple[int, int]] = deque(maxlen=FAILED_RANGES_KEPT)  # tickets, first..last
        self._stopping = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name="conversation-store", daemon=True)
        self._writer.start()

    @property
    def backend(self) -> StoreBackend:
        """The database, for another writer of its own tables (``metric_history``)."""
        return self._backend

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
        connection: Any = None
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                batch = [item]
                stop = False
                while len(batch) < 256:  # one transaction for what has piled up
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stop = True
                        break
                    batch.append(more)
                connection = self._commit(connection, batch)
                if stop:
                    return
        finally:
            self._close(connection)

    def _commit(self, connection: Any, items: list[object]) -> Any:
        """Write ``items`` as one transaction; the connection for the next batch (None
        after a failure: a new one is opened then). While the database cannot be reached
        the batch is tried again, with a growing pause, and what comes meanwhile waits in
        the bounded queue (``StoreFull`` past it); any other failure fails the batch."""
        backend = self._backend
        pause_s = RETRY_FIRST_S
        while True:
            try:
                if connection is None:
                    connection = backend.connect()
                self.deleted += backend.write(connection, _runs(items))
                break
            except backend.errors as exc:
                self.last_error_at = time.time()
                self._close(connection)
                connection = None
                if backend.unreachable(exc) and not self._stopping.is_set():
                    log.warning("%s unreachable (%s): %d change(s) wait, retry in %.1f s", backend.location,
                                type(exc).__name__, len(items), pause_s)
                    self._stopping.wait(pause_s)
                    pause_s = min(pause_s * 2, RETRY_MAX_S)
                    continue
                self.write_errors += len(items)
                with self._written:
                    self._failed.append((self._committed + 1, self._committed + len(items)))
                log.error("could not store %d change(s) in %s: %s", len(items), backend.location,
                          type(exc).__name__)
                break
        with self._written:
            self._committed += len(items)  # (done with: written, or failed and remembered as such)
            self._written.notify_all()
        if connection is not None:
            self._apply_retention(connection)
        return connection

    def _apply_retention(self, connection: Any) -> None:
        now = time.time()
        if now - self._pruned_at < PRUNE_EVERY_S or self.retention == KEEP_ALL:
            return
        self._pruned_at = now
        try:
            removed = self._backend.prune(connection, self.retention, now)
        except self._backend.errors as exc:
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
        """A conversation's stored turns in order (raises ``StoreError``)."""
        return self._backend.turns(session_id, limit)

    def recent_conversations(self, limit: int = 20) -> list[ConversationSummary]:
        """The conversations with the latest turns, newest first (for the admin page)."""
        return self._backend.recent(limit)

    def prune_now(self) -> int:
        """Apply the retention at once, from the caller's thread (start-up, tests)."""
        connection = self._backend.connect()
        try:
            removed = self._backend.prune(connection, self.retention, time.time())
        finally:
            self._close(connection)
        self.pruned += removed
        return removed

    def _close(self, connection: Any) -> None:
        if connection is None:
            return
        try:
            connection.close()
        except self._backend.errors as exc:  # a connection that broke: nothing left to save
            log.debug("closing a broken connection: %s", type(exc).__name__)

    def close(self) -> None:
        """Write what is queued, then stop the writer (a database out of reach is given up
        on: what waits for it fails)."""
        self._stopping.set()
        self._queue.put(_STOP)
        self._writer.join(timeout=10)


def _runs(items: list[object]) -> list[tuple[bool, list[Any]]]:
    """The batch cut into runs of rows and runs of deletions (their session ids), in order."""
    runs: list[tuple[bool, list[Any]]] = []
    for item in items:
        deletion = isinstance(item, _Delete)
        value = item.session_id if isinstance(item, _Delete) else item
        if runs and runs[-1][0] == deletion:
            runs[-1][1].append(value)
        else:
            runs.append((deletion, [value]))
    return runs

