"""Guessing a secret gets slower with every wrong guess, per client address.

After ``free_failures`` wrong tries an address is locked out for ``base_s`` seconds,
doubling with each further failure up to ``max_s``; a success forgets its failures.
Addresses are remembered in a bounded table (the least recently seen go first), so a
scan from many addresses costs memory that does not grow.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_ADDRESSES = 4096


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0


class FailureBackoff:
    def __init__(self, free_failures: int = 5, base_s: float = 1.0, max_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic, max_addresses: int = MAX_ADDRESSES) -> None:
        self._free = free_failures
        self._base_s = base_s
        self._max_s = max_s
        self._clock = clock
        self._max_addresses = max_addresses
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> float:
        """Seconds this address must still wait before its next try (0: it may try now)."""
        with self._lock:
            record = self._records.get(address)
            return 0.0 if record is None else max(0.0, record.locked_until - self._clock())

    def failed(self, address: str) -> None:
        with self._lock:
            record = self._records.pop(address, None) or _Record()
            self._records[address] = record
            while len(self._records) > self._max_addresses:
                self._records.popitem(last=False)
            record.failures += 1
            extra = record.failures - self._free
            if extra > 0:
                lock_s = min(self._max_s, self._base_s * 2 ** min(extra - 1, 30))
                record.locked_until = self._clock() + lock_s

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._records.pop(address, None)
