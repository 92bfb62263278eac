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
from typing import Any

from core.conversation.history import CarriedConversation
from core.runtime import VoiceRuntime
from core.session.pool import PoolEntry, Refused
from core.session.session import Session
from core.store.ownership import OwnedElsewhere, OwnershipUnavailable
from core.store.parking import ParkingUnavailable
from core.store.shared_limits import SharedLimitsUnavailable

log = logging.getLogger(__name__)


class AdmissionRefused(Exception):
    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.message)
        self.code = refused.code
        self.message = refused.message


class ResumeBusy(Exception):
    """The conversation is served by another live process that did not let it go."""


class Lease:
    def __init__(self, runtime: VoiceRuntime, owner: object,
                 on_let_go: Callable[[], None] | None = None) -> None:
        """``on_let_go``: tells the client its conversation went on elsewhere and ends
        its socket (called from another thread when another process takes it over)."""
        self._runtime = runtime
        self._owner = owner  # the connection serving the session (the pool's owner)
        self._on_let_go = on_let_go
        self._entry: PoolEntry | None = None
        self._session: Session | None = None
        self._make: Callable[[str], Session] | None = None  # builds a session with a given id
        self._member: str | None = None  # this connection's place in the limits across processes
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
        self._make = make
        admitted = runtime.pool.admit(uuid.uuid4().hex, address, owner=self._owner)
        if isinstance(admitted, Refused):
            runtime.metrics.count(f"refused_{admitted.code}")
            raise AdmissionRefused(admitted)
        refused = self._admit_shared(admitted.session_id, address)
        if refused is not None:
            runtime.pool.remove(admitted.session_id, self._owner)
            runtime.metrics.count(f"refused_{refused.code}")
            raise AdmissionRefused(refused)
        try:
            session = make(admitted.session_id)
        except BaseException:
            runtime.pool.remove(admitted.session_id, self._owner)
            raise
        admitted.session = session
        self._entry, self._session = admitted, session
        self._own(session.id)
        runtime.metrics.session_opened()
        log.info("session %s opened (%s)", session.id[:8], session.channel)
        return session

    def _admit_shared(self, member: str, address: str) -> Refused | None:
        """The limits across processes (with Redis); Redis out of reach falls back to this
        process's own limits, counted."""
        shared = self._runtime.shared_limits
        if shared is None:
            return None
        try:
            code = shared.admit(member, address)
        except SharedLimitsUnavailable as exc:
            self._runtime.metrics.count("shared_limits_unavailable")
            log.warning("admission across processes unavailable (%s): this process's limits only", exc)
            return None
        if code is None:
            self._member = member
            return None
        if code == "address_limit":
            return Refused(code, "Too many conversations at once from one address: close one first.")
        return Refused(code, "The service has no room for another conversation right now.")

    # ----- one process per conversation (with Redis) ----------------------------------------
    def _own(self, session_id: str) -> None:
        ownership = self._runtime.ownership
        if ownership is None:
            return
        try:
            ownership.claim(session_id, self, self._let_go)
        except (OwnershipUnavailable, OwnedElsewhere) as exc:
            self._runtime.metrics.count("ownership_unavailable")
            log.warning("session %s: no lease across processes (%r)", session_id[:8], exc)

    def _claim_for_resume(self, session_id: str, token: str) -> None:
        """Before a resume: the conversation's lease, its live owner elsewhere asked to let
        go. Only for the token of its copy in Redis (every resumable conversation has one,
        written after each reply): a guess, or a spent token that a stale copy here still
        matches, must not end anyone's conversation."""
        runtime = self._runtime
        ownership, parking = runtime.ownership, runtime.parking
        if ownership is None or parking is None:
            return
        try:
            if not parking.holds(session_id, token):
                return
            ownership.claim(session_id, self, self._let_go)
        except ParkingUnavailable:
            return  # (the resume finds out below, and says so)
        except OwnershipUnavailable as exc:
            runtime.metrics.count("ownership_unavailable")
            log.warning("session %s: resumed without a lease (%s)", session_id[:8], exc)
        except OwnedElsewhere as exc:
            runtime.metrics.count("resume_refused_owned")
            raise ResumeBusy(str(exc)) from exc

    def _let_go(self) -> None:
        """Another process took the conversation over: it ends here, not parked."""
        runtime, entry, session = self._runtime, self._entry, self._session
        if entry is None or session is None:
            return
        if runtime.pool.remove(session.id, self._owner):
            entry.owner = None  # no longer held: whatever the socket sends next ends it
            session.close()
            runtime.metrics.count("handed_to_another_process")
            log.info("session %s: taken over by another process", session.id[:8])
        if self._on_let_go is not None:
            self._on_let_go()

    def _disown(self, session_id: str) -> None:
        if self._runtime.ownership is not None:
            self._runtime.ownership.release(session_id, self)

    # ----- resuming ---------------------------------------------------------------------------
    def take_over(self, session_id: str, token: str) -> Session | None:
        """Serve the session ``session_id`` instead of the fresh one, if ``token`` is its
        resume token: parked here, or (with Redis) parked by another process, or still
        served by another process (which lets it go). The fresh session is closed. None
        (nothing changes) otherwise; raises ``ParkingUnavailable`` when only Redis could
        have it and cannot be reached, ``ResumeBusy`` when its process would not let go."""
        self._claim_for_resume(session_id, token)
        taken = self._take_over(session_id, token)
        if taken is None:
            self._disown(session_id)
        return taken

    def _take_over(self, session_id: str, token: str) -> Session | None:
        fresh, runtime = self.session, self._runtime
        shared, reachable = self._shared_copy(session_id, token)
        if shared == "moved":
            stale = runtime.pool.unpark(session_id)  # another process serves it now
            if stale is not None:
                stale.close()
            return None
        entry = runtime.pool.claim(session_id, token, replacing=fresh.id, owner=self._owner)
        if entry is None or entry.session is None:
            if isinstance(shared, dict):
                entry = self._adopt(session_id, shared)
            elif not reachable:
                raise ParkingUnavailable("the shared session store is unreachable")
            if entry is None:
                return None
        fresh.close()
        self._disown(fresh.id)
        self._entry, self._session = entry, entry.session
        return entry.session

    def _shared_copy(self, session_id: str, token: str) -> tuple[dict[str, Any] | str | None, bool]:
        """The conversation's copy in Redis, taken ("moved": another process has it), and
        whether Redis answered."""
        parking = self._runtime.parking
        if parking is None:
            return None, True
        try:
            state = parking.take(session_id, token)
            if state is None and parking.moved(session_id):
                return "moved", True
            return state, True
        except ParkingUnavailable as exc:
            log.warning("session %s: Redis unreachable on resume (%s)", session_id[:8], exc)
            return None, False

    def _adopt(self, session_id: str, state: dict[str, Any]) -> PoolEntry | None:
        runtime = self._runtime
        if runtime.parking is None or self._make is None:
            return None
        try:
            carried = CarriedConversation.from_json(state)
        except ValueError:
            log.warning("session %s: a parked conversation that cannot be read", session_id[:8])
            return None
        session = self._make(session_id)
        session.carry_over(carried)
        try:
            runtime.parking.mark_moved(session_id)
        except ParkingUnavailable as exc:
            log.warning("session %s moved, not marked (%s)", session_id[:8], exc)
        runtime.metrics.count("resumed_from_elsewhere")
        return runtime.pool.adopt(session, replacing=self.session.id, owner=self._owner)

    def park_shared_now(self) -> None:
        """Park the conversation in Redis while it is still served (the process is about
        to stop: the socket's own release may not run before it exits)."""
        session = self._session
        if session is not None and self._runtime.parking is not None and session.worth_resuming:
            self._park_shared(session)

    def _park_shared(self, session: Session) -> None:
        """Also park the conversation in Redis, for a resume on any process."""
        try:
            self._runtime.parking.park(session.id, session.resume_token,  # type: ignore[union-attr]
                                       session.carried().as_json())
        except ParkingUnavailable as exc:
            self._runtime.metrics.count("parking_unavailable")
            log.warning("session %s parked here only: Redis unreachable (%s)", session.id[:8], exc)

    def release(self, keep: bool) -> None:
        """The connection is over: park the session (``keep``, and worth resuming) or close it."""
        if self._member is not None and self._runtime.shared_limits is not None:
            self._runtime.shared_limits.release(self._member)
            self._member = None
        if self._session is None:
            return
        runtime, session = self._runtime, self._session
        self._disown(session.id)
        if keep and session.worth_resuming:
            session.detach(self.epoch)  # (a no-op if a resume took it over meanwhile)
            parked_here = runtime.pool.owned_by(session.id, self._owner)
            for gone in runtime.pool.park(session.id, self._owner):
                gone.close()
            if parked_here and runtime.parking is not None:
                self._park_shared(session)
        else:
            if runtime.pool.remove(session.id, self._owner):
                session.close()
        runtime.metrics.session_closed()
        log.info("session %s: connection ended", session.id[:8])
