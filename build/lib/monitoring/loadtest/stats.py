"""Figures the load tester keeps while it runs: how late its own frames went out (a
fixed-size histogram, whatever the run's length), running counts for the progress line,
and summaries of lists of milliseconds."""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass

from monitoring.metrics.series import percentile  # nearest rank, as the server's monitor reports

FINE_STEP_MS = 0.1  # lag buckets of 0.1 ms up to FINE_LIMIT_MS, then COARSE_STEP_MS
FINE_LIMIT_MS = 50.0
COARSE_STEP_MS = 5.0
COARSE_LIMIT_MS = 5000.0
ONE_FRAME_MS = 20.0
MAX_SAMPLES = 100_000  # time series points kept (a day at one a second)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class Distribution:
    n: int
    mean: float | None
    min: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None

    @classmethod
    def of(cls, values: list[float]) -> Distribution:
        if not values:
            return cls(0, None, None, None, None, None, None)
        return cls(len(values), _round(statistics.fmean(values)), _round(min(values)),
                   _round(percentile(values, 50)), _round(percentile(values, 95)),
                   _round(percentile(values, 99)), _round(max(values)))


class LagHistogram:
    """How late frames were sent after their due time: bounded memory, exact max."""

    def __init__(self) -> None:
        self._fine = [0] * int(FINE_LIMIT_MS / FINE_STEP_MS)
        self._coarse = [0] * int((COARSE_LIMIT_MS - FINE_LIMIT_MS) / COARSE_STEP_MS)
        self._overflow = 0
        self.count = 0
        self.max_ms = 0.0
        self.late_frames = 0  # a whole frame (20 ms) or more late

    def add(self, lag_s: float) -> None:
        ms = max(0.0, lag_s * 1000.0)
        self.count += 1
        self.max_ms = max(self.max_ms, ms)
        if ms >= ONE_FRAME_MS:
            self.late_frames += 1
        if ms < FINE_LIMIT_MS:
            self._fine[int(ms / FINE_STEP_MS)] += 1
        elif ms < COARSE_LIMIT_MS:
            self._coarse[int((ms - FINE_LIMIT_MS) / COARSE_STEP_MS)] += 1
        else:
            self._overflow += 1

    def percentile_ms(self, q: float) -> float | None:
        """Upper edge of the bucket holding the q-th percentile (nearest rank)."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q / 100.0 * self.count - 1e-9))
        seen = 0
        for index, n in enumerate(self._fine):
            seen += n
            if seen >= rank:
                return min(self.max_ms, (index + 1) * FINE_STEP_MS)
        for index, n in enumerate(self._coarse):
            seen += n
            if seen >= rank:
                return min(self.max_ms, FINE_LIMIT_MS + (index + 1) * COARSE_STEP_MS)
        return self.max_ms


class LiveStats:
    """Counts the sessions update as they go (one event loop: no locks needed)."""

    def __init__(self, sessions: int) -> None:
        self.waiting = sessions  # not started yet (ramp-up)
        self.connecting = 0
        self.active = 0
        self.ended = 0
        self.refused = 0
        self.failed_sessions = 0
        self.turns_ok = 0
        self.turns_failed = 0
        self.v2v_ms: list[float] = []  # at most sessions x turns
        self.lag = LagHistogram()
        self.active_series: deque[tuple[float, int]] = deque(maxlen=MAX_SAMPLES)

    def turn_done(self, ok: bool, v2v_ms: float | None) -> None:
        if ok:
            self.turns_ok += 1
            if v2v_ms is not None:
                self.v2v_ms.append(v2v_ms)
        else:
            self.turns_failed += 1

    def sample_active(self, elapsed_s: float) -> None:
        self.active_series.append((round(elapsed_s, 2), self.active))

    def status_line(self, elapsed_s: float) -> str:
        p95 = percentile(self.v2v_ms, 95)
        lag = self.lag.percentile_ms(95)
        parts = [
            f"{elapsed_s:6.1f} s",
            f"sessions {self.active} active, {self.waiting + self.connecting} ramping, {self.ended} ended"
            + (f", {self.refused} refused" if self.refused else "")
            + (f", {self.failed_sessions} failed" if self.failed_sessions else ""),
            f"turns {self.turns_ok} ok, {self.turns_failed} failed",
            f"v2v p95 {p95:.0f} ms" if p95 is not None else "v2v p95 -",
            f"lag p95 {lag:.1f} ms" if lag is not None else "lag p95 -",
        ]
        return "loadtest " + " | ".join(parts)
