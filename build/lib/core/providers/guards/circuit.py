"""A two-state circuit breaker: after N consecutive failures a provider is left alone.

There is no half-open state: while the circuit is open, the guarded provider's own
probe (core/providers/guards/guarded.py) decides when the provider answers again and closes
it with ``record_success()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

CircuitState = Literal["closed", "open"]


class CircuitBreaker:
    """Thread-safe. ``version`` grows by one on every change of state, so a reader that
    remembers the last version it saw can tell that something changed, and waiters can
    block on ``wait_for_change``."""

    def __init__(self, failure_threshold: int, clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._threshold = failure_threshold
        self._clock = clock
        self._changed = threading.Condition()
        self._state: CircuitState = "closed"
        self._failures = 0
        self._opened_at: float | None = None
        self._version = 0

    def record_success(self) -> bool:
        """Resets the failure count; True when this closed the circuit."""
        with self._changed:
            self._failures = 0
            if self._state == "closed":
                return False
            self._state = "closed"
            self._opened_at = None
            self._bump()
            return True

    def record_failure(self) -> bool:
        """Counts one failure; True when this opened the circuit."""
        with self._changed:
            self._failures += 1
            if self._state == "open" or self._failures < self._threshold:
                return False
            self._state = "open"
            self._opened_at = self._clock()
            self._bump()
            return True

    def wait_for_change(self, seen_version: int, timeout: float) -> bool:
        """Blocks until ``version`` differs from ``seen_version``; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._version != seen_version, timeout)

    def snapshot(self) -> tuple[CircuitState, int]:
        """State and version read together."""
        with self._changed:
            return self._state, self._version

    @property
    def is_open(self) -> bool:
        with self._changed:
            return self._state == "open"

    @property
    def state(self) -> CircuitState:
        with self._changed:
            return self._state

    @property
    def opened_at(self) -> float | None:
        """``clock()`` when the circuit last opened; None while it is closed."""
        with self._changed:
            return self._opened_at

    @property
    def version(self) -> int:
        with self._changed:
            return self._version

    @property
    def latest_version(self) -> int:
        """``version`` read without the lock (one int: the read cannot tear), for pollers
        that only ask whether anything changed and then read ``snapshot``."""
        return self._version

    @property
    def consecutive_failures(self) -> int:
        with self._changed:
            return self._failures

    def _bump(self) -> None:
        self._version += 1
        self._changed.notify_all()
