"""Per-address budgets that hold across processes (``VOICECHAT_REDIS_URL``): the typed
turns and the reply tokens an address may spend a minute
(``VOICECHAT_ADDRESS_TURNS_PER_MINUTE``, ``VOICECHAT_ADDRESS_REPLY_TOKENS_PER_MINUTE``),
whichever process serves its sessions. Without this, N processes would give an address
N times its budget.

Each address's bucket is a small hash in Redis, refilled and spent by one Lua script on
Redis's own clock (processes on several machines need not agree on the time). A turn is
taken only if the bucket has one (atomically: two processes cannot both take the last);
reply tokens, spent a piece at a time by the model workers, are added up here and sent
in one call every ``FLUSH_TOKENS`` or when the budget is next read. Redis out of reach
does not stop anyone: the process's own bucket decides meanwhile, and the fallback is
counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from core.session.turn_budget import ADDRESS_BURST, AddressBudgets, TokenBucket
from core.store import redis_client

log = logging.getLogger(__name__)

PREFIX = "voicechat:budget:"
FLUSH_TOKENS = 16.0
WARN_EVERY_S = 60.0

# KEYS: the bucket. ARGV: tokens a second, burst, tokens spent meanwhile (always taken),
# "1": take one more if there is one then. Returns the seconds until a token is there
# (as text: Lua numbers are cut to integers on the way out).
_SPEND = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate) - tonumber(ARGV[3])
local wait = 0
if tokens < 1 then wait = (1 - tokens) / rate elseif ARGV[4] == '1' then tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst / rate + 60) * 1000))
return tostring(wait)
"""


class SharedTokenBucket(TokenBucket):
    """A ``TokenBucket`` whose tokens are in Redis; its own (local) tokens decide while
    Redis cannot be reached."""

    def __init__(self, budgets: SharedAddressBudgets, key: str, per_minute: float, burst: int,
                 clock: Callable[[], float]) -> None:
        super().__init__(per_minute, burst, clock)
        self._budgets = budgets
        self._key = key
        self._pending = 0.0  # spent here, not yet sent
        self._pending_lock = threading.Lock()

    def _spend(self, tokens: float, and_one: bool) -> float:
        """``tokens`` spent; with ``and_one``, one more taken if there is one. The wait
        until a token is there. Raises the Redis client's errors."""
        return float(self._budgets.script(keys=[self._key], args=[
            self._rate, self._burst, tokens, "1" if and_one else "0"]).decode())

    def _unsent(self) -> float:
        with self._pending_lock:
            tokens, self._pending = self._pending, 0.0
        return tokens

    def wait_s(self) -> float:
        if self._unlimited:
            return 0.0
        unsent = self._unsent()
        try:
            return self._spend(unsent, and_one=False)
        except self._budgets.errors:
            self._budgets.fell_back()
            return super().wait_s()

    def take(self, tokens: float = 1.0) -> None:
        if self._unlimited:
            return
        super().take(tokens)  # (the local count, for when Redis is away)
        with self._pending_lock:
            self._pending += tokens
            full = self._pending >= FLUSH_TOKENS
        if full:
            try:
                self._spend(self._unsent(), and_one=False)
            except self._budgets.errors:
                self._budgets.fell_back()

    def take_one_if_there(self) -> float:
        """One token taken if there is one (0), else the seconds to wait (nothing taken)."""
        if self._unlimited:
            return 0.0
        try:
            wait = self._spend(self._unsent(), and_one=True)
        except self._budgets.errors:
            self._budgets.fell_back()
            wait = super().wait_s()
        if wait == 0.0:
            super().take()
        return wait


class SharedAddressBudgets(AddressBudgets):
    """The address buckets of ``kind`` (turns, reply tokens), kept in Redis."""

    def __init__(self, client: Any, kind: str, per_minute: int, clock: Callable[[], float] = time.monotonic,
                 burst: int = ADDRESS_BURST, on_fallback: Callable[[], None] | None = None) -> None:
        """``on_fallback``: called each time Redis could not decide (a metrics counter)."""
        super().__init__(per_minute, clock, burst)
        self._on_fallback = on_fallback
        self.errors = redis_client.errors()
        self.script = client.register_script(_SPEND)
        self._kind = kind
        self.fallbacks = 0  # budget checks decided by this process alone (Redis away)
        self._warned_at = float("-inf")

    def _new_bucket(self, address: str) -> TokenBucket:
        return SharedTokenBucket(self, f"{PREFIX}{self._kind}:{address}", self._per_minute, self._burst,
                                 self._clock)

    def turn_allowed(self, address: str, session: TokenBucket) -> float:
        wait = session.wait_s()
        if wait:
            return wait
        bucket = self.bucket(address)
        assert isinstance(bucket, SharedTokenBucket)
        wait = bucket.take_one_if_there()
        if wait == 0.0:
            session.take()
        return wait

    def fell_back(self) -> None:
        self.fallbacks += 1
        if self._on_fallback is not None:
            self._on_fallback()
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning("address budgets: Redis unreachable, each process counts alone (%d so far)",
                        self.fallbacks)
