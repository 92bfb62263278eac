"""A connection's hold on a session, from admission to release: the skeleton every
transport (the browser's socket, a phone call's stream) shares.

``admit`` reserves a place in the pool (or raises ``AdmissionRefused`` with the pool's
reason), builds the session and counts it open; ``release`` either parks it for a
resume (a dropped browser socket with something worth keeping) or closes it for good,
and counts it closed. A resume (``take_over``) moves the lease to another session.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from core.runtime import VoiceRuntime
from core.session.pool import PoolEntry, Refused
from core.session.session import Session

log = logging.getLogger(__name__)


class AdmissionRefused(Exception):
    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.message)
        self.code = refused.code
        self.message = refused.message


class Lease:
    def __init__(self, runtime: VoiceRuntime, owner: object) -> None:
        self._runtime = runtime
        self._owner = owner  # the connection serving the session (the pool's owner)
        self._entry: PoolEntry | None = None
        self._session: Session | None = None
        self.epoch = 0  # the session's attachment this lease serves

    @property
    def session(self) -> Session:
        assert self._session is not None, "admit first"
        return self._session

    @property
    def entry(self) -> PoolEntry:
        assert self._entry is not None, "admit first"
        return self._entry

    @property
    def held(self) -> bool:
        """Still ours: a resume on another connection has not taken the session over.
        (Read without the pool's lock, which every socket thread would otherwise take
        per message.)"""
        return self._entry is not None and self._entry.owner is self._owner

    def admit(self, address: str, make: Callable[[str], Session]) -> Session:
        runtime = self._runtime
        admitted = runtime.pool.admit(uuid.uuid4().hex, address, owner=self._owner)
        if isinstance(admitted, Refused):
            runtime.metrics.count(f"refused_{admitted.code}")
            raise AdmissionRefused(admitted)
        try:
            session = make(admitted.session_id)
        except BaseException:
            runtime.pool.remove(admitted.session_id, self._owner)
            raise
        admitted.session = session
        self._entry, self._session = admitted, session
        runtime.metrics.session_opened()
        log.info("session %s opened (%s)", session.id[:8], session.channel)
        return session

    def take_over(self, session_id: str, token: str) -> Session | None:
        """Serve the session ``session_id`` instead of the fresh one, if ``token`` is its
        resume token; the fresh session is closed. None (nothing changes) otherwise."""
        fresh = self.session
        entry = self._runtime.pool.claim(session_id, token, replacing=fresh.id, owner=self._owner)
        if entry is None or entry.session is None:
            return None
        fresh.close()
        self._entry, self._session = entry, entry.session
        return entry.session

    def release(self, keep: bool) -> None:
        """The connection is over: park the session (``keep``, and worth resuming) or close it."""
        if self._session is None:
            return
        runtime, session = self._runtime, self._session
        if keep and session.worth_resuming:
            session.detach(self.epoch)  # (a no-op if a resume took it over meanwhile)
            for gone in runtime.pool.park(session.id, self._owner):
                gone.close()
        else:
            if runtime.pool.remove(session.id, self._owner):
                session.close()
        runtime.metrics.session_closed()
        log.info("session %s: connection ended", session.id[:8])
