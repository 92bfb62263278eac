"""The live sessions and the dropped ones that may still be resumed.

Admission has two ceilings: sessions in all and sessions per client address; a client
over either is told which (``Refused``), never left waiting. A session whose socket
dropped is parked for ``resume_window_s``: a client that shows its id and resume token
in time gets it back; after that (or when too many are parked) it is closed for good.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from core.session.session import Session


@dataclass
class PoolEntry:
    session_id: str
    client_address: str
    session: Session | None = None  # attached once admitted
    owner: object = None  # the connection serving it (changes when a resume takes it over)
    opened_at: float = field(default_factory=time.monotonic)
    last_activity: float = field(default_factory=time.monotonic)
    messages_in: int = 0
    bytes_in: int = 0

    def touch(self, size: int, now: float) -> None:
        self.last_activity = now
        self.messages_in += 1
        self.bytes_in += size


@dataclass(frozen=True)
class Refused:
    code: str  # the error code the client gets
    message: str


@dataclass
class _Parked:
    entry: PoolEntry
    expires_at: float


@dataclass(frozen=True)
class PoolStats:
    active: int
    parked: int
    addresses: int
    busiest_address_sessions: int


class ConnectionPool:
    def __init__(self, max_sessions: int, max_per_address: int = 0, resume_window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max = max_sessions
        self._max_per_address = max_per_address
        self._resume_window_s = resume_window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, PoolEntry] = {}
        self._parked: OrderedDict[str, _Parked] = OrderedDict()  # oldest first

    def admit(self, session_id: str, client_address: str, owner: object = None) -> PoolEntry | Refused:
        """Reserve a place for a new session, or say why there is none."""
        with self._lock:
            if len(self._sessions) >= self._max:
                return Refused("server_full", "The server has no room for another conversation right now.")
            if self._max_per_address and sum(
                    1 for e in self._sessions.values()
                    if e.client_address == client_address) >= self._max_per_address:
                limit = self._max_per_address
                return Refused("address_limit", f"At most {limit} conversation{'s' if limit != 1 else ''} "
                                                "at once from one address: close one first.")
            entry = PoolEntry(session_id, client_address, opened_at=self._clock(),
                              last_activity=self._clock(), owner=owner)
            self._sessions[session_id] = entry
            return entry

    def remove(self, session_id: str, owner: object = None) -> bool:
        """Forget a live session (only if ``owner`` still serves it, when given)."""
        with self._lock:
            entry = self._sessions.get(session_id)
            if entry is None or (owner is not None and entry.owner is not owner):
                return False
            del self._sessions[session_id]
            return True

    # ----- dropped sockets and resumes ----------------------------------------------------
    def park(self, session_id: str, owner: object) -> list[Session]:
        """Keep a dropped session for a resume; returns sessions to close now (the one
        given, when resuming is off, or the oldest parked ones past the ceiling)."""
        with self._lock:
            entry = self._sessions.get(session_id)
            if entry is None or entry.owner is not owner or entry.session is None:
                return []  # (taken over by a resume meanwhile)
            del self._sessions[session_id]
            if self._resume_window_s <= 0:
                return [entry.session]
            self._parked[session_id] = _Parked(entry, self._clock() + self._resume_window_s)
            evicted = []
            while len(self._parked) > self._max:
                _, oldest = self._parked.popitem(last=False)
                evicted.append(oldest.entry.session)
            return [s for s in evicted if s is not None]

    def claim(self, session_id: str, token: str, replacing: str, owner: object) -> PoolEntry | None:
        """The session ``session_id`` if ``token`` is its resume token, now served by
        ``owner`` in place of its fresh session ``replacing``.

        Usually the session is parked; it may also still look live when its old socket
        died without a word (the heartbeat has not noticed yet): the resume takes it over.
        """
        with self._lock:
            parked = self._parked.get(session_id)
            if parked is not None and parked.expires_at >= self._clock():
                entry = parked.entry
            elif session_id in self._sessions and session_id != replacing:
                entry = self._sessions[session_id]
            else:
                return None
            session = entry.session
            if session is None or not hmac.compare_digest(session.resume_token.encode(), token.encode()):
                return None
            self._parked.pop(session_id, None)
            fresh = self._sessions.pop(replacing, None)
            if fresh is not None:
                entry.client_address = fresh.client_address
            entry.last_activity = self._clock()
            entry.owner = owner
            self._sessions[session_id] = entry
            return entry

    def adopt(self, session: Session, replacing: str, owner: object) -> PoolEntry:
        """A conversation parked by another process, now served here by ``owner`` in place
        of its fresh session ``replacing`` (its place in the limits is the fresh one's)."""
        with self._lock:
            fresh = self._sessions.pop(replacing, None)
            address = fresh.client_address if fresh else "?"
            entry = PoolEntry(session.id, address, session=session, owner=owner)
            self._parked.pop(session.id, None)  # (a stale copy of it here, from before it moved)
            self._sessions[session.id] = entry
            return entry

    def owned_by(self, session_id: str, owner: object) -> bool:
        with self._lock:
            entry = self._sessions.get(session_id)
            return entry is not None and entry.owner is owner

    def expire(self) -> list[Session]:
        """Parked sessions whose window has passed, removed; the caller closes them."""
        now = self._clock()
        with self._lock:
            gone = [sid for sid, p in self._parked.items() if p.expires_at < now]
            sessions = [self._parked.pop(sid).entry.session for sid in gone]
        return [s for s in sessions if s is not None]

    def live(self, session_id: str) -> Session | None:
        with self._lock:
            entry = self._sessions.get(session_id)
            return entry.session if entry is not None else None

    def unpark(self, session_id: str) -> Session | None:
        """A parked session taken out (no resume will find it); the caller closes it."""
        with self._lock:
            parked = self._parked.pop(session_id, None)
            return parked.entry.session if parked is not None else None

    # ----- reading --------------------------------------------------------------------------
    def sessions(self) -> list[Session]:
        with self._lock:
            return [e.session for e in self._sessions.values() if e.session is not None]

    def entries(self) -> list[PoolEntry]:
        with self._lock:
            return list(self._sessions.values())

    def stats(self) -> PoolStats:
        with self._lock:
            per_address = Counter(e.client_address for e in self._sessions.values())
            return PoolStats(len(self._sessions), len(self._parked), len(per_address),
                             max(per_address.values(), default=0))

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def close_all(self) -> None:
        with self._lock:
            entries = [*self._sessions.values(), *(p.entry for p in self._parked.values())]
            self._sessions.clear()
            self._parked.clear()
        for entry in entries:
            if entry.session is not None:
                entry.session.close()
