"""Dropped conversations parked in Redis (``VOICECHAT_REDIS_URL``), so a client that comes
back within the resume window may land on any process and take its conversation over.

One key per parked conversation, named by the session id and a hash of its one-time
resume token, with the resume window as its TTL: taking it (GETDEL) needs the right
token, works once, and a wrong token cannot delete someone else's. The value is the
conversation's state as JSON (its history, turn number, last reply; never an API key).
Redis out of reach is reported (``ParkingUnavailable``), never waited on for long (the
shared client's calls time out after a second).
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
from typing import Any

from core.store import redis_client

log = logging.getLogger(__name__)

PREFIX = "voicechat:parked:"
MOVED = "voicechat:moved:"  # a conversation another process took over: stale copies are dropped


class ParkingUnavailable(Exception):
    """Redis cannot be reached now."""


def _key(session_id: str, token: str) -> str:
    return f"{PREFIX}{session_id}:{hashlib.sha256(token.encode()).hexdigest()}"


class RedisParking:
    def __init__(self, client: Any, window_s: float) -> None:
        """``client``: the process's Redis client (``core.store.redis_client``)."""
        self._redis_errors = redis_client.errors()
        self._client = client
        self._window_ms = max(1, int(window_s * 1000))

    def park(self, session_id: str, token: str, state: dict[str, Any]) -> None:
        """Raises ``ParkingUnavailable``."""
        try:
            self._client.set(_key(session_id, token), json.dumps(state), px=self._window_ms)
        except self._redis_errors as exc:
            raise ParkingUnavailable(type(exc).__name__) from exc

    def take(self, session_id: str, token: str) -> dict[str, Any] | None:
        """The state parked under this id and token, removed (None: none, or taken).
        Raises ``ParkingUnavailable``."""
        try:
            raw = self._client.getdel(_key(session_id, token))
        except self._redis_errors as exc:
            raise ParkingUnavailable(type(exc).__name__) from exc
        return None if raw is None else dict(json.loads(raw))

    def holds(self, session_id: str, token: str) -> bool:
        """A copy is parked under this id and token (nothing changes). Raises
        ``ParkingUnavailable``."""
        try:
            return bool(self._client.exists(_key(session_id, token)))
        except self._redis_errors as exc:
            raise ParkingUnavailable(type(exc).__name__) from exc

    def mark_moved(self, session_id: str) -> None:
        """This process took the conversation over: other processes' copies are stale."""
        try:
            self._client.set(f"{MOVED}{session_id}", "1", px=self._window_ms)
        except self._redis_errors as exc:
            raise ParkingUnavailable(type(exc).__name__) from exc

    def moved(self, session_id: str) -> bool:
        """Another process took this conversation over (raises ``ParkingUnavailable``)."""
        try:
            return bool(self._client.exists(f"{MOVED}{session_id}"))
        except self._redis_errors as exc:
            raise ParkingUnavailable(type(exc).__name__) from exc

    def discard(self, session_id: str, token: str) -> None:
        """The conversation resumed where it was parked: its shared copy goes."""
        try:
            self._client.delete(_key(session_id, token))
        except self._redis_errors as exc:  # it expires with the window anyway
            log.warning("could not discard a parked conversation: %s", type(exc).__name__)

    def reachable(self) -> bool:
        try:
            return bool(self._client.ping())
        except self._redis_errors:
            return False


class ParkingWriter:
    """Copies of live conversations written to Redis off the sessions' threads (after each
    reply), so that a process killed outright (SIGKILL, a lost machine) leaves its
    conversations resumable elsewhere. Bounded: when Redis lags, the newest copies are
    dropped (the next reply writes one again), counted in ``dropped``."""

    def __init__(self, parking: RedisParking, capacity: int = 1000) -> None:
        self._parking = parking
        self._queue: queue.Queue[tuple[str, str, dict[str, Any]] | None] = queue.Queue(maxsize=capacity)
        self.dropped = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="parking-writer", daemon=True)
        self._thread.start()

    def offer(self, session_id: str, token: str, state: dict[str, Any]) -> None:
        """Never waits."""
        try:
            self._queue.put_nowait((session_id, token, state))
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._parking.park(*item)
            except ParkingUnavailable as exc:
                self.failed += 1
                log.warning("could not copy a conversation to Redis: %s", exc)

    def close(self) -> None:
        try:
            self._queue.put(None, timeout=2)
        except queue.Full:
            log.warning("parking writer closed with %d copies unwritten", self._queue.qsize())
            return
        self._thread.join(timeout=5)
