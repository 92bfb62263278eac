"""The admin page's history: each server process's figures a minute at a time, in the
conversation store's database (the SQLite file, or PostgreSQL for a cluster), so the
charts outlive a restart and show every process. One writer thread with its own
connection; ``record`` never waits (a full queue drops the minutes and counts them)."""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from core.store.backend import MinuteRow, StoreBackend

log = logging.getLogger(__name__)
KEEP_S = 8 * 86_400.0  # a week is shown; a day more is kept
QUEUE_ITEMS = 120  # batches of minutes waiting for the database (two hours' worth)


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


class MetricHistory:
    def __init__(self, backend: StoreBackend, process: str | None = None, keep_s: float = KEEP_S,
                 clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self.process = process or f"{socket.gethostname()}:{os.getpid()}"
        self._keep_s = keep_s
        self._clock = clock
        self._queue: queue.Queue[list[MinuteRow] | _Flush | None] = queue.Queue(maxsize=QUEUE_ITEMS)
        self.dropped = 0  # minutes not stored: the queue was full
        self.write_errors = 0  # minutes the database refused
        self._writer = threading.Thread(target=self._write_loop, name="metric-history", daemon=True)
        self._writer.start()

    def record(self, rows: list[MinuteRow]) -> None:
        """This process's finished minutes (from the monitor's sampler)."""
        mine = [dataclasses.replace(row, process=self.process) for row in rows]
        try:
            self._queue.put_nowait(mine)
        except queue.Full:
            self.dropped += len(mine)
            log.warning("metric history: %d minute(s) dropped, the database is behind", len(mine))

    def minutes(self, since: float) -> list[MinuteRow]:
        """Every process's minutes from ``since`` (raises ``StoreError``)."""
        return self._backend.minutes(since)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until what was recorded so far is written (or failed)."""
        marker = _Flush()
        try:
            self._queue.put(marker, timeout=timeout_s)
        except queue.Full:
            return False
        return marker.done.wait(timeout_s)

    def close(self) -> None:
        try:
            self._queue.put(None, timeout=5.0)
        except queue.Full:
            log.warning("metric history: closing with minutes still waiting")
            return
        self._writer.join(timeout=10)

    def _write_loop(self) -> None:
        connection: Any = None
        backend = self._backend
        try:
            while (item := self._queue.get()) is not None:
                if isinstance(item, _Flush):
                    item.done.set()
                    continue
                try:
                    if connection is None:
                        connection = backend.connect()
                    backend.write_minutes(connection, item, self._clock() - self._keep_s)
                except backend.errors as exc:
                    self.write_errors += len(item)
                    log.error("metric history: could not store %d minute(s) in %s: %s", len(item),
                              backend.location, type(exc).__name__)
                    self._close(connection)
                    connection = None
        finally:
            self._close(connection)

    def _close(self, connection: Any) -> None:
        if connection is None:
            return
        try:
            connection.close()
        except self._backend.errors as exc:
            log.warning("metric history: closing its connection: %s", type(exc).__name__)
