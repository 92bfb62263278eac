"""One process at a time serves a conversation (``VOICECHAT_REDIS_URL``): a lease per
session in Redis, so the same conversation cannot go on in two processes at once (a
duplicated tab, a socket whose loss its process has not noticed yet).

``voicechat:owner:<session>`` names the owning process and lapses after ``LEASE_S``
unless renewed (every ``RENEW_S``). A process proves it is alive with a key of its own
that lapses after ``ALIVE_S`` (renewed every ``BEAT_S``). Claiming a session someone else
owns asks the owner to let go (``voicechat:letgo:<process>``, read at every beat): it
ends its connection (``resumed_elsewhere``) and releases the lease; a dead owner's lease
is taken as soon as its alive key has lapsed, so a crash delays a resume by at most
``ALIVE_S``, not by the lease's life. An owner that finds at renewal that the lease went
to another process (it was cut off from Redis meanwhile) lets go too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from core.store import redis_client

log = logging.getLogger(__name__)

OWNER = "voicechat:owner:"
ALIVE = "voicechat:alive:"
LET_GO = "voicechat:letgo:"
LEASE_S = 20.0
RENEW_S = 5.0
ALIVE_S = 1.5
BEAT_S = 0.3
LET_GO_WAIT_S = ALIVE_S + 1.0  # longer than a dead owner's alive key lives
CLAIM_POLL_S = 0.05
MAX_LET_GO_PER_BEAT = 256

# KEYS: the session's owner key. ARGV: this process, lease ms, the alive prefix.
# Returns "" (ours now) or the live owner's id.
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return owner end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ''
"""
# KEYS: owner keys. ARGV: this process, lease ms. Returns the keys another process owns now.
_RENEW = """
local lost = {}
for _, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner and owner ~= ARGV[1] then table.insert(lost, key)
  else redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) end
end
return lost
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class OwnershipUnavailable(Exception):
    """Redis cannot be reached now."""


class OwnedElsewhere(Exception):
    """Another live process serves the conversation and did not let go in time."""


class SessionOwnership:
    def __init__(self, client: Any, process_id: str) -> None:
        """``client``: the process's Redis client; ``process_id``: this process's name in
        the cluster (``ProcessRegistry.own_id``)."""
        self._errors = redis_client.errors()
        self._client = client
        self.process_id = process_id
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._lock = threading.Lock()
        # session id -> (the lease holding it here, how that connection lets go)
        self._owned: dict[str, tuple[object, Callable[[], None]]] = {}
        self.let_go_count = 0  # conversations this process handed to another
        self._stop = threading.Event()
        self._beat()
        self._thread = threading.Thread(target=self._run, name="session-ownership", daemon=True)
        self._thread.start()

    # ----- claiming and releasing ---------------------------------------------------------
    def claim(self, session_id: str, holder: object, let_go: Callable[[], None]) -> None:
        """Make this process the conversation's owner, asking a live other owner to let go
        and waiting up to ``LET_GO_WAIT_S`` for it. ``let_go`` is called (from this
        module's thread) if another process claims it later. Raises ``OwnedElsewhere`` or
        ``OwnershipUnavailable``."""
        deadline = time.monotonic() + LET_GO_WAIT_S
        asked: str | None = None
        while True:
            try:
                owner = self._claim(keys=[OWNER + session_id],
                                    args=[self.process_id, int(LEASE_S * 1000), ALIVE]).decode()
                if owner and owner != asked:
                    self._client.sadd(LET_GO + owner, session_id)
                    self._client.pexpire(LET_GO + owner, int(LET_GO_WAIT_S * 1000))
                    asked = owner
            except self._errors as exc:
                raise OwnershipUnavailable(type(exc).__name__) from exc
            if not owner:
                with self._lock:
                    self._owned[session_id] = (holder, let_go)
                return
            if time.monotonic() >= deadline:
                raise OwnedElsewhere(owner)
            time.sleep(CLAIM_POLL_S)  # the owner lets go at its next beat, or its alive key lapses

    def release(self, session_id: str, holder: object | None = None) -> None:
        """This process no longer serves the conversation (parked, closed, handed over).
        With ``holder``: only if that lease still holds it here (a resume on another
        connection of this process took it over meanwhile)."""
        with self._lock:
            held = self._owned.get(session_id)
            if held is None or (holder is not None and held[0] is not holder):
                return
            del self._owned[session_id]
        try:
            self._release(keys=[OWNER + session_id], args=[self.process_id])
        except self._errors as exc:  # it lapses by itself within LEASE_S
            log.warning("could not release a conversation's lease: %s", type(exc).__name__)

    def release_all(self) -> None:
        with self._lock:
            sessions = list(self._owned)
        for session_id in sessions:
            self.release(session_id)

    # ----- the beat: alive, let-go requests, renewals -------------------------------------
    def _run(self) -> None:
        next_renewal = time.monotonic() + RENEW_S
        while not self._stop.wait(BEAT_S):
            self._beat()
            if time.monotonic() >= next_renewal:
                next_renewal = time.monotonic() + RENEW_S
                self._renew_all()

    def _beat(self) -> None:
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.set(ALIVE + self.process_id, "1", px=int(ALIVE_S * 1000))
            pipe.spop(LET_GO + self.process_id, MAX_LET_GO_PER_BEAT)
            _, asked = pipe.execute()
        except self._errors as exc:
            log.warning("could not renew this process's alive key: %s", type(exc).__name__)
            return
        for raw in asked or ():
            self._hand_over(raw.decode())

    def _renew_all(self) -> None:
        with self._lock:
            sessions = list(self._owned)
        if not sessions:
            return
        try:
            lost = self._renew(keys=[OWNER + s for s in sessions],
                               args=[self.process_id, int(LEASE_S * 1000)])
        except self._errors as exc:
            log.warning("could not renew %d lease(s): %s", len(sessions), type(exc).__name__)
            return
        for key in lost or ():
            self._hand_over(key.decode()[len(OWNER):])

    def _hand_over(self, session_id: str) -> None:
        """Another process claims the conversation: its connection here ends."""
        with self._lock:
            held = self._owned.get(session_id)
        if held is not None:
            self.let_go_count += 1
            try:
                held[1]()
            except Exception as exc:  # noqa: BLE001 - one connection's fault must not stop the beat
                log.error("letting go of session %s failed: %r", session_id[:8], exc)
        self.release(session_id)

    def close(self) -> None:
        """The process stops: its leases and alive key go at once (a resume elsewhere need
        not wait for them to lapse)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.release_all()
        try:
            self._client.delete(ALIVE + self.process_id)
        except self._errors as exc:  # it lapses by itself within ALIVE_S
            log.debug("could not withdraw the alive key: %s", type(exc).__name__)
