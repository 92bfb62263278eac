"""How long conversations are kept, and how much of them: rows older than the age
limit are deleted, then the oldest conversations until the file's used pages fit the
size limit (freed pages are reused by SQLite, so the file stops growing there)."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
SIZE_PRUNE_BATCH = 20  # conversations deleted at a time while the file is over its size


@dataclass(frozen=True)
class Retention:
    max_age_s: float = 0.0  # 0: kept for ever
    max_bytes: int = 0  # 0: no size limit


def used_bytes(connection: sqlite3.Connection) -> int:
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    free = connection.execute("PRAGMA freelist_count").fetchone()[0]
    return int(page_size * (pages - free))


def prune(connection: sqlite3.Connection, retention: Retention, now: float) -> int:
    """Delete what the retention no longer allows; returns the rows deleted."""
    deleted = 0
    with connection:
        if retention.max_age_s > 0:
            deleted += connection.execute("DELETE FROM turns WHERE at < ?",
                                          (now - retention.max_age_s,)).rowcount
    while retention.max_bytes > 0 and used_bytes(connection) > retention.max_bytes:
        with connection:
            removed = connection.execute(
                "DELETE FROM turns WHERE session_id IN (SELECT session_id FROM turns "
                "GROUP BY session_id ORDER BY MAX(at) LIMIT ?)", (SIZE_PRUNE_BATCH,)).rowcount
        if removed == 0:
            break
        deleted += removed
    return deleted


def make_private(path: Path) -> None:
    """The database and its WAL files readable by this user only (SQLite gives the
    WAL and shared-memory files the database file's mode when it creates them)."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists():
            os.chmod(candidate, PRIVATE_FILE)
