"""Performance monitor: cheap counters and bounded windows of per-turn timings.

Recording is a lock and an append; aggregation (percentiles, time buckets, process
stats) happens only in the sampler (the runtime's ticker, every few seconds) or when
someone reads, never on the audio path. Two locks: ``_lock`` guards what the record
path touches, ``_series_lock`` the time buckets, so folding never makes a session wait.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any, Protocol

import psutil

from core.metrics import TURN_TAKING_EVENTS, Metrics
from core.store.backend import MinuteRow
from monitoring.metrics.histograms import Histogram
from monitoring.metrics.minutes import MinuteLog
from monitoring.metrics.series import (
    BUCKET_S,
    BUCKETS,
    TURN_STAGES,
    VOICE_TO_VOICE,
    ProcessReading,
    TimeSeries,
    bucket_index,
    percentile,
)

__all__ = ["TURN_STAGES", "VOICE_TO_VOICE", "PerformanceMonitor", "ProcessReading", "percentile", "turn_kind"]

WINDOW = 500  # turns (and barge-ins) kept for percentiles
RECENT_TURNS = 200  # turns kept for the admin page's table
PENDING_TURNS = 10_000  # turns waiting to be folded into the buckets (folded every few seconds)
TURN_TAKING_KEPT = 50_000  # turn-taking events kept with their time, for the last hour's counts
HOUR_S = 3600.0
SAMPLE_S = 5.0  # process readings and folding, from the runtime's ticker
SESSION_ID_CHARS = 8


TURN_KINDS = ("spoken", "typed", "scripted")


def turn_kind(timings: Mapping[str, float]) -> str:
    """Spoken (an end of speech, answered by the model), typed (a message, answered by the
    model) or scripted (a greeting or a fixed reply, no model): the latency figures are
    for spoken turns, as mixing in the others flatters them."""
    if "llm_first_token_ms" not in timings:
        return "scripted"
    return "spoken" if "endpoint_ms" in timings else "typed"


class ProcessProbe(Protocol):
    def read(self) -> ProcessReading: ...


class PsutilProbe:
    """This process's CPU (since the previous read), memory and threads."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._process.cpu_percent(interval=None)  # the first reading only starts the count

    def read(self) -> ProcessReading:
        with self._process.oneshot():
            return ProcessReading(self._process.cpu_percent(interval=None),
                                  self._process.memory_info().rss, self._process.num_threads())


class PerformanceMonitor(Metrics):
    """The server's metrics (``core.metrics.Metrics``), kept for the admin page and /metrics."""

    def __init__(self, window: int = WINDOW, clock: Callable[[], float] = time.time,
                 probe: ProcessProbe | None = None, bucket_s: float = BUCKET_S,
                 buckets: int = BUCKETS, recent: int = RECENT_TURNS) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._counters: Counter[str] = Counter()
        self._turns: deque[tuple[str, dict[str, float]]] = deque(maxlen=window)  # (kind, timings)
        self._turn_seconds = Histogram()  # voice-to-voice by (kind, channel)
        self._stage_seconds = Histogram()  # each stage of spoken turns, by (stage,)
        self._barge_in_seconds = Histogram()
        # (t, channel, event) of the latest turn-taking events, for the last hour's counts
        self._turn_taking: deque[tuple[float, str, str]] = deque(maxlen=TURN_TAKING_KEPT)
        self._barge_ins: deque[float] = deque(maxlen=window)
        self._recent: deque[dict[str, Any]] = deque(maxlen=recent)
        self._pending_turns: deque[tuple[float, dict[str, float]]] = deque(maxlen=PENDING_TURNS)
        self._pending_errors: dict[int, int] = {}  # bucket index -> errors counted in it
        self._bucket_s = bucket_s
        self._buckets = buckets
        self._started = clock()
        self._probe: ProcessProbe = probe or PsutilProbe()
        self.active_sessions = 0
        self._series_lock = threading.Lock()
        self._series = TimeSeries(bucket_s, buckets)
        self._last_reading: ProcessReading | None = None
        self._last_sample_at: float | None = None
        self._minutes = MinuteLog()  # for the history in the store, when kept (keep_history)
        self._history: Callable[[list[MinuteRow]], None] | None = None

    # ----- the record path: a lock and an append --------------------------------------
    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counters[name] += n
            if name.startswith("error:"):
                index = bucket_index(self._clock(), self._bucket_s)
                pending = self._pending_errors
                if index not in pending and len(pending) >= self._buckets:  # nobody folds: keep it bounded
                    del pending[min(pending)]
                pending[index] = pending.get(index, 0) + n

    def record_turn(self, timings: Mapping[str, float], session_id: str | None = None,
                    channel: str = "browser") -> None:
        timings = dict(timings)
        session = session_id[:SESSION_ID_CHARS] if session_id else None
        kind = turn_kind(timings)
        with self._lock:
            now = self._clock()
            self._turns.append((kind, timings))
            self._counters["turns"] += 1
            self._recent.append({"t": now, "session": session, "channel": channel, "kind": kind,
                                 "timings": timings})
            self._pending_turns.append((now, timings if kind == "spoken" else {}))
            if VOICE_TO_VOICE in timings:
                self._turn_seconds.observe((kind, channel), timings[VOICE_TO_VOICE] / 1000)
            if kind == "spoken":
                for stage in TURN_STAGES:
                    if stage in timings:
                        self._stage_seconds.observe((stage,), timings[stage] / 1000)

    def turn_taking(self, event: str, channel: str) -> None:
        with self._lock:
            self._counters[f"turn_taking:{channel}:{event}"] += 1
            self._turn_taking.append((self._clock(), channel, event))

    def turn_taking_view(self) -> dict[str, dict[str, dict[str, int]]]:
        """Per channel and event: ``hour`` (the last hour) and ``total`` (since start);
        every event of ``TURN_TAKING_EVENTS`` for every channel seen (browser always)."""
        with self._lock:
            now = self._clock()
            recent = Counter((channel, event) for t, channel, event in self._turn_taking if t > now - HOUR_S)
            totals = {name: n for name, n in self._counters.items() if name.startswith("turn_taking:")}
        channels = {"browser"} | {name.split(":")[1] for name in totals}
        return {channel: {event: {"hour": recent[(channel, event)],
                                  "total": totals.get(f"turn_taking:{channel}:{event}", 0)}
                          for event in TURN_TAKING_EVENTS}
                for channel in sorted(channels)}

    def record_barge_in(self, ms: float) -> None:
        """How long playback took to stop after the person started talking over it."""
        with self._lock:
            self._barge_ins.append(float(ms))
            self._barge_in_seconds.observe((), ms / 1000)

    def session_opened(self) -> None:
        with self._lock:
            self.active_sessions += 1
            self._counters["sessions_opened"] += 1

    def session_closed(self) -> None:
        with self._lock:
            self.active_sessions -= 1

    # ----- the sampler ------------------------------------------------------------------
    def keep_history(self, record: Callable[[list[MinuteRow]], None]) -> None:
        """Hand each finished minute to ``record`` (``MetricHistory.record``), from the sampler."""
        self._history = record

    def sample_if_due(self) -> None:
        """Called often (the ticker); samples every ``SAMPLE_S``."""
        last, now = self._last_sample_at, self._clock()
        if last is None or now - last >= SAMPLE_S or now < last:  # (or the clock stepped back)
            self.sample()

    def sample(self) -> None:
        """Read the process (the only place CPU is read) and fold what was recorded."""
        with self._series_lock:
            reading = self._probe.read()
            now, sessions = self._fold()
            self._series.add_reading(now, sessions, reading)
            self._minutes.add_reading(now, sessions, reading)
            self._last_reading = reading
            self._last_sample_at = now
            finished = self._minutes.take()
        if finished and self._history is not None:
            self._history(finished)

    def _fold(self) -> tuple[float, int]:
        """Move recorded turns and errors into the buckets; caller holds ``_series_lock``."""
        with self._lock:
            now = self._clock()
            turns, self._pending_turns = self._pending_turns, deque(maxlen=PENDING_TURNS)
            errors, self._pending_errors = self._pending_errors, {}
            sessions = self.active_sessions
        # In time order: a bucket is closed for good once a later one has opened.
        events: list[tuple[float, dict[str, float] | int]] = [
            *turns, *((index * self._bucket_s, n) for index, n in errors.items())]
        events.sort(key=lambda event: event[0])
        for t, what in events:
            if isinstance(what, int):
                self._series.add_errors(t, what)
                self._minutes.add_errors(t, what)
            else:
                self._series.add_turn(t, what)
                self._minutes.add_turn(t, what)
        self._series.advance(now)
        return now, sessions

    # ----- readers --------------------------------------------------------------------
    def series(self) -> list[dict[str, Any]]:
        """The time buckets, oldest first, up to now (the last one still filling)."""
        with self._series_lock:
            self._fold()
            return self._series.buckets()

    def recent_turns(self, limit: int = RECENT_TURNS) -> list[dict[str, Any]]:
        """The latest turns, newest first: wall-clock ``t``, short ``session``, ``timings``."""
        with self._lock:
            latest = list(islice(reversed(self._recent), max(0, limit)))
        return [{**turn, "timings": dict(turn["timings"])} for turn in latest]

    def histograms(self) -> dict[str, Histogram]:
        """Copies of the cumulative histograms (seconds), for /metrics."""
        with self._lock:
            return {"voice_to_voice": self._turn_seconds.copy(), "turn_stage": self._stage_seconds.copy(),
                    "barge_in": self._barge_in_seconds.copy()}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counters = dict(self._counters)
            turns = list(self._turns)
            barge_ins = list(self._barge_ins)
            active = self.active_sessions
        spoken = [t for kind, t in turns if kind == "spoken"]
        stages: dict[str, dict[str, float | None]] = {}
        for stage in (*TURN_STAGES, "total_ms"):
            values = [t[stage] for t in spoken if stage in t]
            stages[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95),
                             "n": len(values)}
        by_kind: dict[str, dict[str, float | None]] = {}
        for name in TURN_KINDS:
            values = [t[VOICE_TO_VOICE] for kind, t in turns if kind == name and VOICE_TO_VOICE in t]
            by_kind[name] = {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}
        reading = self._last_reading
        if reading is None:  # no sample yet: take the first one now
            self.sample()
            reading = self._last_reading
        assert reading is not None
        return {
            "uptime_s": round(self._clock() - self._started, 1),
            "active_sessions": active,
            "counters": counters,
            "stages": stages,
            "voice_to_voice": dict(stages[VOICE_TO_VOICE]),  # spoken turns (by_kind: the others)
            "voice_to_voice_by_kind": by_kind,
            "barge_in": {"p50": percentile(barge_ins, 50), "p95": percentile(barge_ins, 95),
                         "n": len(barge_ins)},
            "process": {"rss_bytes": reading.rss_bytes, "cpu_percent": reading.cpu_percent,
                        "threads": reading.threads, "sampled_at": self._last_sample_at},
        }


def monitor_of(runtime: Any) -> PerformanceMonitor:
    """The monitor a server's runtime records into (the admin page and /metrics read it)."""
    metrics = runtime.metrics
    if not isinstance(metrics, PerformanceMonitor):
        raise TypeError("the admin routes need a runtime built with metrics=PerformanceMonitor()")
    return metrics
