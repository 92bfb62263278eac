"""A thread pool that refuses work instead of queueing it without end."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class Overloaded(RuntimeError):
    """Every worker is busy and the backlog is full."""


class BoundedExecutor:
    def __init__(self, workers: int, backlog: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._slots = threading.BoundedSemaphore(workers + backlog)
        self._name = name

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        if not self._slots.acquire(blocking=False):
            raise Overloaded(f"{self._name}: all workers busy and backlog full")
        try:
            future = self._pool.submit(fn, *args)
        except RuntimeError:
            self._slots.release()
            raise
        future.add_done_callback(lambda _f: self._slots.release())
        return future

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
