"""The conversation store in one SQLite file (the default): WAL mode, so readers do not
block the writer and a committed row survives even SIGKILL; the files are private to
the user running the server (0600 in a 0700 folder)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from core.store import retention
from core.store.backend import (
    MINUTE_COLUMNS,
    RECENT_ROWS_SCANNED,
    ConversationSummary,
    MinuteRow,
    Runs,
    StoreBackend,
    StoredTurn,
    StoreError,
    minute_row,
    minute_values,
)
from core.store.migrations import migrate_sqlite
from core.store.retention import PRIVATE_FOLDER, Retention, make_private


class SQLiteBackend(StoreBackend):
    errors = (sqlite3.Error,)

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.location = str(self.path)
        try:
            self.path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
            make_private(self.path)
            with closing(self.connect()) as setup:
                setup.execute("PRAGMA journal_mode=WAL")
                migrate_sqlite(setup)
            make_private(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot use {self.path} for conversations: {exc}") from exc

    def connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
        connection.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a process kill
        return connection

    def write(self, connection: sqlite3.Connection, runs: Runs) -> int:
        deleted = 0
        with connection:
            for deletion, group in runs:
                if deletion:
                    for session_id in group:
                        deleted += connection.execute("DELETE FROM turns WHERE session_id = ?",
                                                      (session_id,)).rowcount
                else:
                    connection.executemany(
                        "INSERT INTO turns (session_id, turn, role, text, cut, channel, at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", group)
        return deleted

    def prune(self, connection: sqlite3.Connection, policy: Retention, now: float) -> int:
        return retention.prune(connection, policy, now)

    def turns(self, session_id: str, limit: int) -> list[StoredTurn]:
        try:
            with closing(self.connect()) as connection:
                rows = connection.execute(
                    "SELECT session_id, turn, role, text, cut, channel, at FROM turns "
                    "WHERE session_id = ? ORDER BY turn, role = 'assistant' LIMIT ?",
                    (session_id, limit)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read conversations: {exc}") from exc
        return [StoredTurn(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]

    def recent(self, limit: int) -> list[ConversationSummary]:
        try:
            with closing(self.connect()) as connection:
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

    def write_minutes(self, connection: sqlite3.Connection, rows: list[MinuteRow], older_than: float) -> None:
        with connection:
            connection.executemany(
                f"INSERT INTO metric_minutes ({MINUTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [minute_values(row) for row in rows])
            connection.execute("DELETE FROM metric_minutes WHERE minute < ?", (older_than,))

    def minutes(self, since: float) -> list[MinuteRow]:
        try:
            with closing(self.connect()) as connection:
                rows = connection.execute(f"SELECT {MINUTE_COLUMNS} FROM metric_minutes WHERE minute >= ? "
                                          "ORDER BY minute, process", (since,)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the metrics' history: {exc}") from exc
        return [minute_row(row) for row in rows]
