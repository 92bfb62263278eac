"""Performance monitor: cheap counters and bounded windows of per-turn timings.

Recording is a lock and an append; aggregation (percentiles, process stats) happens
only when someone asks for a snapshot, never on the audio path.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from typing import Any

import psutil

WINDOW = 500  # turns kept for percentiles
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


class PerformanceMonitor:
    def __init__(self, window: int = WINDOW) -> None:
        self._lock = threading.Lock()
        self._counters: Counter[str] = Counter()
        self._turns: deque[dict[str, float]] = deque(maxlen=window)
        self._started = time.time()
        self._process = psutil.Process()
        self.active_sessions = 0

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counters[name] += n

    def record_turn(self, timings: dict[str, float]) -> None:
        with self._lock:
            self._turns.append(dict(timings))

    def session_opened(self) -> None:
        with self._lock:
            self.active_sessions += 1
            self._counters["sessions_opened"] += 1

    def session_closed(self) -> None:
        with self._lock:
            self.active_sessions -= 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counters = dict(self._counters)
            turns = list(self._turns)
            active = self.active_sessions
        stages: dict[str, dict[str, float | None]] = {}
        for stage in (*TURN_STAGES, "total_ms"):
            values = [t[stage] for t in turns if stage in t]
            stages[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95),
                             "n": len(values)}
        with self._process.oneshot():
            memory = self._process.memory_info().rss
            cpu = self._process.cpu_percent(interval=None)
            threads = self._process.num_threads()
        return {
            "uptime_s": round(time.time() - self._started, 1),
            "active_sessions": active,
            "counters": counters,
            "stages": stages,
            "process": {"rss_bytes": memory, "cpu_percent": cpu, "threads": threads},
        }
