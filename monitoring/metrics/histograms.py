"""Cumulative histograms of durations in seconds, for Prometheus (``*_seconds`` with
``_bucket``, ``_sum`` and ``_count``): aggregatable over processes and time ranges,
where the windowed p50/p95 the admin page shows are not. Observed under the monitor's
lock; one series per label values, a fixed set of buckets each (bounded memory: the
label values are a closed set, kinds of turn and channels)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field

# Upper bounds (s): fine where a turn's answer is judged (0.2-1 s), coarse beyond.
BOUNDS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
MAX_SERIES = 64  # label combinations kept; a typo'd label cannot grow it without bound


@dataclass
class Counts:
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BOUNDS) + 1))  # the last: +Inf
    total_s: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        self.buckets[bisect_left(BOUNDS, seconds)] += 1
        self.total_s += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """(``le``, observations at or under it), as the exposition format has them."""
        running, out = 0, []
        for bound, n in zip((*(f"{b:g}" for b in BOUNDS), "+Inf"), self.buckets, strict=True):
            running += n
            out.append((bound, running))
        return out


class Histogram:
    """Observations by label values; the caller holds whatever lock guards it."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, ...], Counts] = {}

    def observe(self, labels: tuple[str, ...], seconds: float) -> None:
        counts = self._series.get(labels)
        if counts is None:
            if len(self._series) >= MAX_SERIES:
                return
            counts = self._series[labels] = Counts()
        counts.observe(max(0.0, seconds))

    def copy(self) -> Histogram:
        twin = Histogram()
        twin._series = {k: Counts(list(v.buckets), v.total_s, v.count) for k, v in self._series.items()}
        return twin

    def items(self) -> Iterator[tuple[tuple[str, ...], Counts]]:
        yield from sorted(self._series.items())
