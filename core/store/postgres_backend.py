"""The conversation store in PostgreSQL (``VOICECHAT_DATABASE_URL``), for several
processes or machines sharing one store. psycopg 3 (the maintained PostgreSQL driver,
with its own binary wheel): the writer's connection is in autocommit mode and each batch
is one explicit transaction. A turn stored again (a reply cut after it was reported
whole) replaces the earlier row, as in SQLite."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
from core.store.migrations import migrate_postgres
from core.store.retention import SIZE_PRUNE_BATCH, Retention

CONNECT_TIMEOUT_S = 5
ROWS_SIZE = "SELECT COALESCE(SUM(pg_column_size(t.*)), 0) FROM turns t"
INSERT = ("INSERT INTO turns (session_id, turn, role, text, cut, channel, at) "
          "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (session_id, turn, role) DO UPDATE SET "
          "text = EXCLUDED.text, cut = EXCLUDED.cut, channel = EXCLUDED.channel, at = EXCLUDED.at")

INSERT_MINUTE = (f"INSERT INTO metric_minutes ({MINUTE_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                 "ON CONFLICT (minute, process) DO UPDATE SET turns = EXCLUDED.turns, "
                 "errors = EXCLUDED.errors, sessions = EXCLUDED.sessions, "
                 "cpu_percent = EXCLUDED.cpu_percent, rss_bytes = EXCLUDED.rss_bytes, "
                 "stage_values = EXCLUDED.stage_values")


def without_password(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class PostgresBackend(StoreBackend):
    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self.errors = (psycopg.Error,)
        self._url = url
        self.location = without_password(url)  # (the password is never logged)
        try:
            with self.connect() as setup:
                migrate_postgres(setup)
        except psycopg.Error as exc:
            raise StoreError(f"cannot use {self.location} for conversations: {type(exc).__name__}: "
                             f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}") from exc

    def unreachable(self, error: Exception) -> bool:
        # A connection that cannot be made or was lost; not a failed statement.
        return isinstance(error, self._psycopg.OperationalError)

    def connect(self) -> Any:
        return self._psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)

    def write(self, connection: Any, runs: Runs) -> int:
        deleted = 0
        with connection.transaction(), connection.cursor() as cursor:
            for deletion, group in runs:
                if deletion:
                    for session_id in group:
                        cursor.execute("DELETE FROM turns WHERE session_id = %s", (session_id,))
                        deleted += cursor.rowcount
                else:
                    cursor.executemany(INSERT, group)
        return deleted

    def prune(self, connection: Any, policy: Retention, now: float) -> int:
        """By age, then the oldest conversations while the rows' own size is over the
        limit (PostgreSQL reuses the space of deleted rows after autovacuum)."""
        deleted = 0
        if policy.max_age_s > 0:
            oldest = now - policy.max_age_s
            deleted += connection.execute("DELETE FROM turns WHERE at < %s", (oldest,)).rowcount
        while policy.max_bytes > 0:
            used = connection.execute(ROWS_SIZE).fetchone()[0]
            if used <= policy.max_bytes:
                break
            removed = connection.execute(
                "DELETE FROM turns WHERE session_id IN (SELECT session_id FROM turns "
                "GROUP BY session_id ORDER BY MAX(at) LIMIT %s)", (SIZE_PRUNE_BATCH,)).rowcount
            if removed == 0:
                break
            deleted += removed
        return deleted

    def turns(self, session_id: str, limit: int) -> list[StoredTurn]:
        try:
            with self.connect() as connection:
                rows = connection.execute(
                    "SELECT session_id, turn, role, text, cut, channel, at FROM turns "
                    "WHERE session_id = %s ORDER BY turn, role = 'assistant' LIMIT %s",
                    (session_id, limit)).fetchall()
        except self._psycopg.Error as exc:
            raise StoreError(f"cannot read conversations: {type(exc).__name__}") from exc
        return [StoredTurn(r[0], r[1], r[2], r[3], bool(r[4]), r[5], float(r[6])) for r in rows]

    def recent(self, limit: int) -> list[ConversationSummary]:
        try:
            with self.connect() as connection:
                rows = connection.execute(
                    "SELECT t.session_id, MAX(t.channel), COUNT(*), MIN(t.at), MAX(t.at), "
                    "(SELECT text FROM turns l WHERE l.session_id = t.session_id ORDER BY l.at DESC LIMIT 1) "
                    "FROM turns t WHERE t.session_id IN "
                    "(SELECT session_id FROM turns ORDER BY at DESC LIMIT %s) "
                    "GROUP BY t.session_id ORDER BY MAX(t.at) DESC LIMIT %s",
                    (RECENT_ROWS_SCANNED, limit)).fetchall()
        except self._psycopg.Error as exc:
            raise StoreError(f"cannot read conversations: {type(exc).__name__}") from exc
        return [ConversationSummary(r[0], r[1], r[2], float(r[3]), float(r[4]), r[5]) for r in rows]

    def write_minutes(self, connection: Any, rows: list[MinuteRow], older_than: float) -> None:
        with connection.transaction(), connection.cursor() as cursor:
            cursor.executemany(INSERT_MINUTE, [minute_values(row) for row in rows])
            cursor.execute("DELETE FROM metric_minutes WHERE minute < %s", (older_than,))

    def minutes(self, since: float) -> list[MinuteRow]:
        try:
            with self.connect() as connection:
                rows = connection.execute(f"SELECT {MINUTE_COLUMNS} FROM metric_minutes WHERE minute >= %s "
                                          "ORDER BY minute, process", (since,)).fetchall()
        except self._psycopg.Error as exc:
            raise StoreError(f"cannot read the metrics' history: {type(exc).__name__}") from exc
        return [minute_row(row) for row in rows]
