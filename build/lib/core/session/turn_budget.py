"""How many typed turns a client may open: per session and per client address.

Every typed message opens a turn on the shared models (and, with a paid API, spends the
server's money). A person types a few a minute; a script can send hundreds a second.
Each session and each address (core/transport/client_address.py) has a token bucket:
a small burst, then a steady rate; past it the message is refused with the wait, and
nothing else happens.
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
    """``per_minute`` 0: no limit."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float]) -> None:
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
        self._refill()
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate

    def take(self) -> None:
        if self._unlimited:
            return
        self._refill()
        self._tokens -= 1.0


class AddressBudgets:
    """The per-address buckets of the process (thread-safe, bounded)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def turn_allowed(self, address: str, session: TokenBucket) -> float:
        """Takes a turn from both ``session``'s bucket and ``address``'s; 0 when taken,
        else the seconds to wait (and nothing is taken)."""
        with self._lock:
            bucket = self._buckets.get(address)
            if bucket is None:
                bucket = self._buckets[address] = TokenBucket(self._per_minute, ADDRESS_BURST, self._clock)
                if len(self._buckets) > MAX_ADDRESSES:
                    self._buckets.popitem(last=False)
            self._buckets.move_to_end(address)
            wait = max(session.wait_s(), bucket.wait_s())
            if wait == 0.0:
                session.take()
                bucket.take()
            return wait
