"""Admission limits that hold across processes (``VOICECHAT_REDIS_URL``): the sessions of
one client address, and of the whole cluster, whichever process serves them.

Every connection a process admits is a member of two sorted sets in Redis (the address's
and the cluster's), scored by the time it lapses; admitting counts the members that have
not lapsed and adds the new one in the same Lua script, so two processes cannot both take
the last place. A process renews its members every ``RENEW_S`` (they lapse after
``LAPSE_S``), so the places of a process that died free themselves within that time.
Redis out of reach does not stop people from talking: admission falls back to the
process's own limits, and the fallback is counted.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from core.store import redis_client

log = logging.getLogger(__name__)

LAPSE_S = 30.0
RENEW_S = 10.0
CLUSTER_KEY = "voicechat:live"
ADDRESS_PREFIX = "voicechat:live:address:"

# KEYS: the cluster's set, the address's set. ARGV: member, now, lapse time, cluster limit,
# address limit (0: none). Returns 0 (admitted), 1 (cluster full), 2 (address full).
_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if tonumber(ARGV[4]) > 0 and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 1 end
if tonumber(ARGV[5]) > 0 and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 2 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[2], math.floor((tonumber(ARGV[3]) - tonumber(ARGV[2])) * 1000))
return 0
"""


class SharedLimitsUnavailable(Exception):
    """Redis cannot be reached now."""


class SharedLimits:
    def __init__(self, client: Any, cluster_max: int, per_address_max: int) -> None:
        """``client``: the process's Redis client (``core.store.redis_client``)."""
        self._errors = redis_client.errors()
        self._client = client
        self._admit = self._client.register_script(_ADMIT)
        self._cluster_max = cluster_max
        self._per_address_max = per_address_max
        self._lock = threading.Lock()
        self._mine: dict[str, str] = {}  # member -> address, this process's
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew_loop, name="shared-limits", daemon=True)
        self._renewer.start()

    def admit(self, member: str, address: str) -> str | None:
        """None when admitted, else "server_full" or "address_limit". Raises
        ``SharedLimitsUnavailable``."""
        now = time.time()
        try:
            verdict = int(self._admit(keys=[CLUSTER_KEY, ADDRESS_PREFIX + address],
                                      args=[member, now, now + LAPSE_S, self._cluster_max,
                                            self._per_address_max]))
        except self._errors as exc:
            raise SharedLimitsUnavailable(type(exc).__name__) from exc
        if verdict:
            return "server_full" if verdict == 1 else "address_limit"
        with self._lock:
            self._mine[member] = address
        return None

    def release(self, member: str) -> None:
        with self._lock:
            address = self._mine.pop(member, None)
        if address is None:
            return
        try:
            self._client.zrem(CLUSTER_KEY, member)
            self._client.zrem(ADDRESS_PREFIX + address, member)
        except self._errors as exc:  # it lapses by itself within LAPSE_S
            log.warning("could not release a shared admission: %s", type(exc).__name__)

    def _renew_loop(self) -> None:
        while not self._stop.wait(RENEW_S):
            with self._lock:
                mine = dict(self._mine)
            if not mine:
                continue
            lapses = time.time() + LAPSE_S
            try:
                pipe = self._client.pipeline(transaction=False)
                for member, address in mine.items():
                    pipe.zadd(CLUSTER_KEY, {member: lapses}, xx=True)
                    pipe.zadd(ADDRESS_PREFIX + address, {member: lapses}, xx=True)
                pipe.execute()
            except self._errors as exc:
                log.warning("could not renew %d shared admission(s): %s", len(mine), type(exc).__name__)

    def close(self) -> None:
        self._stop.set()
        self._renewer.join(timeout=5)
        with self._lock:
            members = list(self._mine)
        for member in members:
            self.release(member)
