"""What a client may spend: typed turns, and reply tokens, per session and per address.

Every typed message opens a turn on the shared models (and, with a paid API, spends the
server's money). A person types a few a minute; a script can send hundreds a second.
Each session and each address (core/transport/client_address.py) has a token bucket:
a small burst, then a steady rate; past it the message is refused with the wait, and
nothing else happens. Replies are budgeted the same way in tokens (streamed pieces):
a reply is not started while its session's or its address's budget is spent.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

SESSION_BURST = 5
ADDRESS_BURST = 15
MAX_ADDRESSES = 4096  # buckets kept; the least recently used is forgotten first


class TokenBucket:
    """``per_minute`` 0: no limit. Thread-safe (replies spend from the model workers)."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float]) -> None:
        self._lock = threading.Lock()
        self._unlimited = per_minute <= 0
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now

    def wait_s(self) -> float:
        """Seconds until one token is there (0: now)."""
        if self._unlimited:
            return 0.0
        with self._lock:
            self._refill()
            return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate

    def take(self, tokens: float = 1.0) -> None:
        """Spends ``tokens`` (past zero too: a reply already under way is not cut)."""
        if self._unlimited:
            return
        with self._lock:
            self._refill()
            self._tokens -= tokens


class AddressBudgets:
    """The per-address buckets of the process (thread-safe, bounded)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic,
                 burst: int = ADDRESS_BURST) -> None:
        self._per_minute = per_minute
        self._burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def bucket(self, address: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(address)
            if bucket is None:
                bucket = self._buckets[address] = self._new_bucket(address)
                if len(self._buckets) > MAX_ADDRESSES:
                    self._buckets.popitem(last=False)
            self._buckets.move_to_end(address)
            return bucket

    def _new_bucket(self, address: str) -> TokenBucket:
        return TokenBucket(self._per_minute, self._burst, self._clock)

    def turn_allowed(self, address: str, session: TokenBucket) -> float:
        """Takes a turn from both ``session``'s bucket and ``address``'s; 0 when taken,
        else the seconds to wait (and nothing is taken)."""
        bucket = self.bucket(address)
        with self._lock:
            wait = max(session.wait_s(), bucket.wait_s())
            if wait == 0.0:
                session.take()
                bucket.take()
            return wait


class ReplyBudget:
    """The reply tokens of one session, within its address's (``None`` elsewhere: no limit)."""

    def __init__(self, session: TokenBucket, address: TokenBucket) -> None:
        self._buckets = (session, address)

    @classmethod
    def for_session(cls, per_minute: int, address_bucket: TokenBucket,
                    clock: Callable[[], float] = time.monotonic) -> ReplyBudget:
        return cls(TokenBucket(per_minute, per_minute, clock), address_bucket)

    def wait_s(self) -> float:
        """Seconds until a reply may start (0: now)."""
        return max(bucket.wait_s() for bucket in self._buckets)

    def spend(self, tokens: float = 1.0) -> None:
        for bucket in self._buckets:
            bucket.take(tokens)
