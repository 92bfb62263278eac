"""Per-session limits on what a client may send: a rate, and a ceiling on the backlog.

Policy (docs/reliability.md): messages above the rate are dropped and the client is
told once a second; a client that keeps flooding for ``patience_s`` is closed. A backlog
of received-but-unhandled messages above ``max_messages`` or ``max_bytes`` means the
client sends faster than the session can work at all: it is closed at once, since
every further message would only grow memory.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection

SUM_EVERY = 16  # messages between two counts of a long backlog's bytes


class Verdict(enum.Enum):
    ACCEPT = "accept"
    DROP = "drop"  # over the rate: skip this message
    DROP_AND_WARN = "drop_and_warn"  # ... and tell the client (at most once a second)
    CLOSE = "close"  # flooding: end the session


class FloodGuard:
    def __init__(self, per_second: int, max_messages: int, max_bytes: int, max_message_bytes: int,
                 clock: Callable[[], float], patience_s: float = 3.0) -> None:
        self._rate = float(per_second)
        self._burst = 2.0 * per_second
        self._tokens = self._burst
        self._max_messages = max_messages
        self._max_bytes = max_bytes
        self._max_message_bytes = max_message_bytes
        self._clock = clock
        self._patience_s = patience_s
        self._last = clock()
        self._flooding_since: float | None = None
        self._last_warning = float("-inf")
        self.dropped = 0
        self._since_sum = SUM_EVERY  # the first long backlog is summed at once

    def backlog_too_big(self, backlog: Collection[bytes | str]) -> bool:
        """``backlog``: the socket's received messages not yet handled."""
        if len(backlog) > self._max_messages:
            return True
        if len(backlog) * self._max_message_bytes <= self._max_bytes:  # cannot be over: skip the sum
            return False
        # Summing a long backlog for every message would make a slow server slower still:
        # the bytes are counted every SUM_EVERY messages (the bound may be passed by at most
        # that many messages meanwhile).
        self._since_sum += 1
        if self._since_sum < SUM_EVERY:
            return False
        self._since_sum = 0
        return sum(len(m) for m in list(backlog)) > self._max_bytes

    def admit(self) -> Verdict:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            if self._tokens >= self._rate:  # back under the rate with room to spare
                self._flooding_since = None
            return Verdict.ACCEPT
        self.dropped += 1
        if self._flooding_since is None:
            self._flooding_since = now
        elif now - self._flooding_since > self._patience_s:
            return Verdict.CLOSE
        if now - self._last_warning >= 1.0:
            self._last_warning = now
            return Verdict.DROP_AND_WARN
        return Verdict.DROP
