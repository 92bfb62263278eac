"""The conversation tables, version by version, for each database dialect.

``schema_version`` holds the versions applied; opening a store applies the newer ones in
order, each in its own transaction. Version 1 is the table every release so far has
written (``CREATE ... IF NOT EXISTS``: a database from before versions were kept takes
it without a change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Dialect = Literal["sqlite", "postgres"]


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    sqlite: str
    postgres: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1, "turns, one row per finalized utterance or reply",
        sqlite="""
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
        """,
        postgres="""
            CREATE TABLE IF NOT EXISTS turns (
                id BIGSERIAL PRIMARY KEY,
                session_id TEXT NOT NULL,
                turn INTEGER NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
                text TEXT NOT NULL,
                cut SMALLINT NOT NULL DEFAULT 0,
                channel TEXT NOT NULL DEFAULT 'browser',
                at DOUBLE PRECISION NOT NULL,
                UNIQUE (session_id, turn, role)
            );
            CREATE INDEX IF NOT EXISTS turns_at ON turns (at);
        """,
    ),
    Migration(
        2, "metric_minutes, the admin page's figures a minute at a time, per server process",
        sqlite="""
            CREATE TABLE IF NOT EXISTS metric_minutes (
                minute REAL NOT NULL,
                process TEXT NOT NULL,
                turns INTEGER NOT NULL,
                errors INTEGER NOT NULL,
                sessions INTEGER,
                cpu_percent REAL,
                rss_bytes INTEGER,
                stage_values TEXT NOT NULL,
                PRIMARY KEY (minute, process) ON CONFLICT REPLACE
            );
        """,
        postgres="""
            CREATE TABLE IF NOT EXISTS metric_minutes (
                minute DOUBLE PRECISION NOT NULL,
                process TEXT NOT NULL,
                turns INTEGER NOT NULL,
                errors INTEGER NOT NULL,
                sessions INTEGER,
                cpu_percent DOUBLE PRECISION,
                rss_bytes BIGINT,
                stage_values TEXT NOT NULL,
                PRIMARY KEY (minute, process)
            );
        """,
    ),
)

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)"


def applied(connection: Any) -> int:
    row = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate_sqlite(connection: Any) -> list[int]:
    """Apply what is missing to a SQLite connection; the versions applied now."""
    connection.execute(VERSION_TABLE)
    done: list[int] = []
    for migration in MIGRATIONS:
        if migration.version <= applied(connection):
            continue
        record = f"INSERT INTO schema_version VALUES ({migration.version}, datetime('now'));"
        connection.executescript(f"BEGIN;\n{migration.sqlite}\n{record}\nCOMMIT;")
        done.append(migration.version)
    return done


def migrate_postgres(connection: Any) -> list[int]:
    """Apply what is missing to a PostgreSQL connection (autocommit); the versions applied
    now. An advisory lock keeps two processes starting at once from racing."""
    done: list[int] = []
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(7163)")
        connection.execute(VERSION_TABLE)
        for migration in MIGRATIONS:
            if migration.version <= applied(connection):
                continue
            connection.execute(migration.postgres)
            connection.execute("INSERT INTO schema_version VALUES (%s, now()::text)", (migration.version,))
            done.append(migration.version)
    return done
