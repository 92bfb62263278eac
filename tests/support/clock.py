"""The tests' one clock: it moves only when the test moves it."""

from __future__ import annotations


class ManualClock:
    """A ``time.monotonic``-like callable (seconds) for code that takes a clock."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
