"""A thread pool shared by many sessions that refuses work instead of queueing it without
end, and takes queued work in turn across its owners.

A plain FIFO pool lets one session that opens turns quickly fill every worker and the
whole backlog, so everyone else is told "busy". Here each owner (a session) has its own
line and may have only a few jobs waiting or running; a free worker takes the next job
of the owner with the fewest jobs running, the one served longest ago among equals, so
a busy owner delays another by at most one job per worker.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

_Job = tuple[Future[Any], Callable[[], Any]]


class Overloaded(RuntimeError):
    """Every worker is busy and the backlog is full, or this owner has its share in flight."""


class FairExecutor:
    def __init__(self, workers: int, backlog: int, name: str, per_owner: int) -> None:
        if workers < 1 or backlog < 0 or per_owner < 1:
            raise ValueError("workers and per_owner must be at least 1, backlog at least 0")
        self._workers = workers
        self._capacity = workers + backlog
        self._per_owner = per_owner
        self._name = name
        self._changed = threading.Condition()
        self._lines: dict[Hashable, deque[_Job]] = {}  # owners with queued jobs, oldest first
        self._in_flight: dict[Hashable, int] = {}  # queued or running, by owner
        self._running: dict[Hashable, int] = {}
        self._served: dict[Hashable, int] = {}  # when each owner in flight was last served
        self._picks = 0
        self._threads: list[threading.Thread] = []
        self._waiting = 0  # workers waiting for a job
        self._stopped = False

    def submit(self, owner: Hashable, fn: Callable[[], Any]) -> Future[Any]:
        """Queue ``fn`` for ``owner``; raises ``Overloaded`` (nothing queued) when full."""
        future: Future[Any] = Future()
        with self._changed:
            if self._stopped:
                raise RuntimeError(f"{self._name}: shut down")
            mine = self._in_flight.get(owner, 0)
            if mine >= self._per_owner:
                raise Overloaded(f"{self._name}: this session has {mine} jobs in flight already")
            if sum(self._in_flight.values()) >= self._capacity:
                raise Overloaded(f"{self._name}: all workers busy and backlog full")
            self._in_flight[owner] = mine + 1
            self._lines.setdefault(owner, deque()).append((future, fn))
            future.add_done_callback(lambda done: self._withdraw(owner, done))
            if self._waiting == 0 and len(self._threads) < self._workers:
                self._start_worker()
            else:
                self._changed.notify()
        return future

    def in_flight(self, owner: Hashable) -> int:
        with self._changed:
            return self._in_flight.get(owner, 0)

    def _withdraw(self, owner: Hashable, future: Future[Any]) -> None:
        """A job cancelled while it waits leaves its line at once, and its owner's share."""
        if not future.cancelled():
            return
        with self._changed:
            line = self._lines.get(owner)
            waiting = [job for job in line or () if job[0] is future]
            if not line or not waiting:
                return  # a worker has it already (and counts it done)
            line.remove(waiting[0])
            if not line:
                del self._lines[owner]
            self._one_less(owner)

    def _start_worker(self) -> None:
        thread = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}")
        self._threads.append(thread)
        thread.start()

    def _next(self) -> tuple[Hashable, _Job] | None:
        """The next job, from the owner served longest ago; None once stopped."""
        with self._changed:
            while not self._lines and not self._stopped:
                self._waiting += 1
                self._changed.wait()
                self._waiting -= 1
            if self._stopped:
                return None
            owner = min(self._lines, key=lambda o: (self._running.get(o, 0), self._served.get(o, -1)))
            line = self._lines[owner]
            job = line.popleft()
            if not line:
                del self._lines[owner]
            self._picks += 1
            self._served[owner] = self._picks
            self._running[owner] = self._running.get(owner, 0) + 1
            return owner, job

    def _done(self, owner: Hashable) -> None:
        with self._changed:
            self._running[owner] -= 1
            if not self._running[owner]:
                del self._running[owner]
            self._one_less(owner)

    def _one_less(self, owner: Hashable) -> None:
        """One job of ``owner`` is over (under the lock); an owner with none is forgotten."""
        self._in_flight[owner] -= 1
        if not self._in_flight[owner]:
            del self._in_flight[owner]
            self._served.pop(owner, None)

    def _work(self) -> None:
        while (taken := self._next()) is not None:
            owner, (future, fn) = taken
            try:
                if future.set_running_or_notify_cancel():  # False: cancelled while queued
                    try:
                        future.set_result(fn())
                    except BaseException as exc:  # noqa: BLE001 - handed to whoever holds the future
                        future.set_exception(exc)
            finally:
                self._done(owner)

    def shutdown(self) -> None:
        """Cancel what is queued, let running jobs finish, and join the workers."""
        with self._changed:
            self._stopped = True
            waiting = [future for line in self._lines.values() for future, _ in line]
            self._lines.clear()
            for future in waiting:
                future.cancel()
            self._changed.notify_all()
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()
