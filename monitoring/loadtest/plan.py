"""What every simulated session of a run is told: where, how many questions or until
when, how long to wait, and when the run started."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class SessionPlan:
    url: str
    turns: int
    barge_in_every: int
    turn_timeout_s: float
    think_s: float
    connect_timeout_s: float
    t0: float  # time.monotonic() when the run started; every offset is from here
    until: float | None = None  # time.monotonic() past which no question is asked (--duration)

    def asks(self, turn: int) -> bool:
        """Is question ``turn`` asked: within --turns, or (--duration) before the end."""
        return time.monotonic() < self.until if self.until is not None else turn <= self.turns
