"""One thread that gives every session the time, so timers work without audio (the
greeting, the thinking cue, a held reply's release), closes parked sessions whose
resume window has passed, and lets the metrics sample. A session whose audio ticked it
within the last round is passed by (at 125 sessions, ticking every one 20 times a second
held the GIL a fifth of the time).

It never waits on a session: one that is busy right now (another thread holds its
lock) is skipped and ticked on the next round, 50 ms later, so a session stuck on
anything cannot hold up every other session's timers. A bug in one session's tick is
reported by that session; one here is logged once and counted, and the ticker goes on.
"""

from __future__ import annotations

import threading
import time

from core.bugs import BugLog
from core.metrics import Metrics
from core.session.pool import ConnectionPool

TICK_S = 0.05


class Ticker:
    def __init__(self, pool: ConnectionPool, metrics: Metrics, interval_s: float = TICK_S) -> None:
        self._pool = pool
        self._metrics = metrics
        self._interval_s = interval_s
        self._bugs = BugLog(metrics, "session-ticker")
        self._stop = threading.Event()
        self.rounds = 0
        self.skipped_busy = 0  # session ticks put off because the session was busy
        self.longest_gap_s = 0.0  # the longest time between the starts of two rounds
        self._last_round_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="session-ticker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            now = time.monotonic()
            if self._last_round_at is not None:
                self.longest_gap_s = max(self.longest_gap_s, now - self._last_round_at)
            self._last_round_at = now
            try:
                self.tick_all()
            except Exception as exc:  # noqa: BLE001 - the ticker serves every session: it goes on
                self._bugs.report(exc)

    def tick_all(self) -> None:
        """One round: every session that is free now, the expired parked ones, the metrics."""
        ticked_by_audio = time.monotonic() - self._interval_s
        for session in self._pool.sessions():
            if session.ticked_at >= ticked_by_audio:
                continue  # its audio ticks it (an open microphone: 50 times a second)
            if not session.try_tick():
                self.skipped_busy += 1
        for expired in self._pool.expire():
            expired.close()
        self._metrics.sample_if_due()
        self.rounds += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
