"""The set of live sessions, with a ceiling on how many may be open at once."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from core.session import Session


@dataclass
class PoolEntry:
    session_id: str
    client_address: str
    session: Session | None = None  # attached once admitted
    opened_at: float = field(default_factory=time.monotonic)


class ConnectionPool:
    def __init__(self, max_sessions: int) -> None:
        self._max = max_sessions
        self._lock = threading.Lock()
        self._sessions: dict[str, PoolEntry] = {}

    def admit(self, session_id: str, client_address: str) -> PoolEntry | None:
        """Reserve a place for a new session; None when the pool is full."""
        with self._lock:
            if len(self._sessions) >= self._max:
                return None
            entry = PoolEntry(session_id, client_address)
            self._sessions[session_id] = entry
            return entry

    def remove(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def sessions(self) -> list[Session]:
        with self._lock:
            return [e.session for e in self._sessions.values() if e.session is not None]

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def close_all(self) -> None:
        with self._lock:
            entries = list(self._sessions.values())
            self._sessions.clear()
        for entry in entries:
            if entry.session is not None:
                entry.session.close()
