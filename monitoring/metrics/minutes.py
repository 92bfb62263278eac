"""The monitor's figures a minute at a time, for the history kept in the store
(``core.store.metric_history``), and those minutes back as chart buckets of any width.

The sampler folds turns, errors and process readings in as it does for the live hour; a
minute is handed over once time has moved past it. Each minute keeps a bounded sample
of the spoken turns' stage timings, so percentiles over hours stay close and cheap.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from core.store.backend import MinuteRow
from monitoring.metrics.series import MAX_VALUES, TURN_STAGES, Bucket, ProcessReading, bucket_index

MINUTE_S = 60.0
MAX_STAGE_VALUES = 200  # per stage and minute
MAX_CLOSED = 120  # minutes waiting to be handed over (nobody takes them: the oldest go)


class MinuteLog:
    """Not thread-safe: the monitor's sampler is its one caller."""

    def __init__(self) -> None:
        self._open: Bucket | None = None
        self._closed: list[MinuteRow] = []

    def _minute_at(self, t: float) -> Bucket:
        index = bucket_index(t, MINUTE_S)
        if self._open is not None and self._open.index < index:
            self._closed.append(row_of(self._open))
            del self._closed[:-MAX_CLOSED]
            self._open = None
        if self._open is None:
            self._open = Bucket(index)
        return self._open

    def add_turn(self, t: float, timings: dict[str, float]) -> None:
        self._minute_at(t).add_turn(timings, MAX_STAGE_VALUES)

    def add_errors(self, t: float, n: int) -> None:
        self._minute_at(t).errors += n

    def add_reading(self, t: float, sessions: int, reading: ProcessReading | None) -> None:
        self._minute_at(t).add_reading(sessions, reading)

    def take(self) -> list[MinuteRow]:
        """The minutes finished since the last call, oldest first."""
        closed, self._closed = self._closed, []
        return closed


def row_of(minute: Bucket) -> MinuteRow:
    cpu = round(sum(minute.cpu) / len(minute.cpu), 1) if minute.cpu else None
    stages = {stage: values for stage, values in minute.values.items() if values}
    return MinuteRow(minute.index * MINUTE_S, "", minute.turns, minute.errors, minute.sessions, cpu,
                     minute.rss_bytes, stages)


def buckets_from_minutes(rows: list[MinuteRow], since: float, until: float,
                         width_s: float) -> list[dict[str, Any]]:
    """The chart buckets of width ``width_s`` from ``since`` to ``until``, in the shape of
    the live hour's (``Bucket.summary``), every process's minutes together: turns and
    errors added up, sessions and memory added across processes (the most in a
    minute), CPU the processes' mean. A bucket no process wrote is empty (a gap). Each
    minute gives a bucket an evenly spaced part of its sample (at most ``MAX_VALUES``
    values a bucket to sort)."""
    step_of = max(1, round(width_s / MINUTE_S) * MAX_STAGE_VALUES // MAX_VALUES)
    first, last = bucket_index(since, width_s), bucket_index(until, width_s)
    buckets = {index: Bucket(index) for index in range(first, last + 1)}
    per_minute: dict[float, list[MinuteRow]] = defaultdict(list)
    for row in rows:
        per_minute[row.minute].append(row)
    for minute, together in sorted(per_minute.items()):
        bucket = buckets.get(bucket_index(minute, width_s))
        if bucket is None:
            continue
        bucket.turns += sum(row.turns for row in together)
        bucket.errors += sum(row.errors for row in together)
        for row in together:
            for stage in TURN_STAGES:
                bucket.values[stage].extend(row.stage_values.get(stage, [])[::step_of])
            if row.cpu_percent is not None:
                bucket.cpu.append(row.cpu_percent)
        sessions = [row.sessions for row in together if row.sessions is not None]
        if sessions:
            bucket.sessions = max(bucket.sessions or 0, sum(sessions))
        memory = [row.rss_bytes for row in together if row.rss_bytes is not None]
        if memory:
            bucket.rss_bytes = max(bucket.rss_bytes or 0, sum(memory))
    return [buckets[index].summary(width_s) for index in sorted(buckets)]
