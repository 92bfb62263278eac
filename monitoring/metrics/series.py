"""Fixed-width time buckets of the monitor's figures, for the admin page's charts.

Turns, errors and process readings arrive with their wall-clock time and are folded in
by the sampler (or a reader), never on the audio path. Only the open bucket keeps raw
values (bounded); a bucket is reduced to a few numbers when time moves past it, and at
most ``keep`` buckets are kept.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

BUCKET_S = 10.0
BUCKETS = 360  # one hour of 10 s buckets
MAX_VALUES = 2_000  # raw values the open bucket keeps per figure; more turns are only counted
VOICE_TO_VOICE = "tts_first_audio_ms"  # first reply audio after the end of speech (docs/protocol.md)
# Per-turn timings, in ms after the end of the person's speech (see docs/protocol.md).
TURN_STAGES = ("endpoint_ms", "transcript_ms", "llm_first_token_ms", "llm_first_sentence_ms",
               "tts_first_audio_ms")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered) - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def bucket_index(t: float, width_s: float = BUCKET_S) -> int:
    return int(t // width_s)


@dataclass
class ProcessReading:
    cpu_percent: float  # since the previous reading, 100 = one core
    rss_bytes: int
    threads: int


@dataclass
class Bucket:
    index: int
    turns: int = 0
    errors: int = 0
    values: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in TURN_STAGES})
    sessions: int | None = None  # the most seen at once
    cpu: list[float] = field(default_factory=list)
    rss_bytes: int | None = None  # the latest reading

    def add_turn(self, timings: dict[str, float], kept: int = MAX_VALUES) -> None:
        """``kept``: the most values of a stage the bucket keeps (more turns are only counted)."""
        self.turns += 1
        for stage, values in self.values.items():
            value = timings.get(stage)
            if value is not None and len(values) < kept:
                values.append(float(value))

    def add_reading(self, sessions: int, reading: ProcessReading | None) -> None:
        self.sessions = sessions if self.sessions is None else max(self.sessions, sessions)
        if reading is not None:
            if len(self.cpu) < MAX_VALUES:
                self.cpu.append(reading.cpu_percent)
            self.rss_bytes = reading.rss_bytes

    def summary(self, width_s: float) -> dict[str, Any]:
        v2v = self.values[VOICE_TO_VOICE]
        return {
            "t": self.index * width_s,
            "turns": self.turns,
            "turns_per_min": round(self.turns * 60.0 / width_s, 2),
            "v2v_p50": percentile(v2v, 50),
            "v2v_p95": percentile(v2v, 95),
            "stage_p50": {stage: percentile(values, 50) for stage, values in self.values.items()},
            "errors": self.errors,
            "sessions": self.sessions,
            "cpu_percent": round(sum(self.cpu) / len(self.cpu), 1) if self.cpu else None,
            "rss_bytes": self.rss_bytes,
        }


class TimeSeries:
    """Not thread-safe: the monitor serializes its callers."""

    def __init__(self, width_s: float = BUCKET_S, keep: int = BUCKETS) -> None:
        self.width_s = width_s
        self.keep = keep
        self._closed: deque[dict[str, Any]] = deque(maxlen=keep - 1)
        self._open: Bucket | None = None

    def _bucket_at(self, t: float) -> Bucket:
        """The open bucket for time ``t``, closing the ones time has passed. A time before
        the open bucket (a clock stepped back) counts in the open bucket."""
        index = bucket_index(t, self.width_s)
        if self._open is None:
            self._open = Bucket(index)
        while self._open.index < index:
            self._closed.append(self._open.summary(self.width_s))
            following = self._open.index + 1
            if index - following > self.keep:  # a long quiet spell: skip what would not be kept
                following = index - self.keep
            self._open = Bucket(following)
        return self._open

    def add_turn(self, t: float, timings: dict[str, float]) -> None:
        self._bucket_at(t).add_turn(timings)

    def add_errors(self, t: float, n: int) -> None:
        self._bucket_at(t).errors += n

    def add_reading(self, t: float, sessions: int, reading: ProcessReading | None) -> None:
        self._bucket_at(t).add_reading(sessions, reading)

    def advance(self, t: float) -> None:
        self._bucket_at(t)

    def buckets(self) -> list[dict[str, Any]]:
        """Oldest first; the last one is still open."""
        summaries = list(self._closed)
        if self._open is not None:
            summaries.append(self._open.summary(self.width_s))
        return summaries
