"""Provider calls on a few daemon threads, each waited on for a bounded time only.

A Python thread cannot be killed: a call past its deadline is abandoned, left to
finish on its own, and what it returns is dropped. The threads are daemons, unlike a
ThreadPoolExecutor's (which the interpreter joins at exit), so a call that never
returns cannot keep the server from exiting; there are at most ``workers`` of them, so
hung calls cannot pile up threads either: once all are stuck, new calls wait in line
and run out of time there.

The deadline runs from the moment a call starts, not from when it was handed in: time
spent waiting in line for a thread (an embedded model runs one call at a time) is
bounded separately by ``queue_timeout_s``, so a busy model is not taken for a hung one.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from typing import Any, NoReturn, TypeVar

from core.providers.base import ProviderError

log = logging.getLogger(__name__)

T = TypeVar("T")

STREAM_BUFFER = 8  # pieces a producer may run ahead of its consumer
_PUT_POLL_S = 0.1  # how often a producer blocked on a full buffer checks for a stop


class ProviderTimeout(ProviderError):
    """No answer within the deadline. Retryable for the person (asking again later may
    work) but never retried within the same call: a provider that hung once is not
    waited on again in the same turn."""

    def __init__(self, provider: str, seconds: float, waiting: str = "no answer") -> None:
        super().__init__(provider, f"{waiting} within {seconds:g} s", retryable=True)
        self.seconds = seconds


class DaemonPool:
    """A fixed-size pool of daemon threads with the ``submit``/``shutdown`` subset of
    ThreadPoolExecutor. Threads start on demand and live until ``shutdown``."""

    def __init__(self, name: str, workers: int = 4) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._name = name
        self._workers = workers
        self._cond = threading.Condition()
        self._pending: deque[tuple[Future[Any], Callable[[], Any]]] = deque()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError(f"{self._name}: pool is shut down")
            # Calls that ran out of time while waiting were cancelled: forget them.
            self._pending = deque(item for item in self._pending if not item[0].cancelled())
            self._pending.append((future, fn))
            if self._idle < len(self._pending) and len(self._threads) < self._workers:
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self._name}-{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
            else:
                self._cond.notify()
        return future

    def shutdown(self, wait: bool = False, cancel_futures: bool = True) -> None:
        """Idle threads end now, busy ones after their current call. ``wait`` joins them:
        only safe when no call can hang."""
        with self._cond:
            self._closed = True
            if cancel_futures:
                for future, _fn in self._pending:
                    future.cancel()
                self._pending.clear()
            threads = list(self._threads)
            self._cond.notify_all()
        if wait:
            for thread in threads:
                thread.join()

    @property
    def threads(self) -> list[threading.Thread]:
        """The threads still running (for tests and diagnostics)."""
        with self._cond:
            return list(self._threads)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._idle += 1
                    self._cond.wait()
                    self._idle -= 1
                if not self._pending:
                    self._threads.remove(threading.current_thread())
                    return
                future, fn = self._pending.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(exc)
            else:
                future.set_result(result)


class CallRunner:
    """Runs one provider's calls on its own pool, each under ``timeout_s``.

    One pool per provider: a primary whose calls all hang must not take the threads
    its fallback needs.
    """

    def __init__(self, provider: str, timeout_s: float, workers: int = 4,
                 queue_timeout_s: float | None = None) -> None:
        self.provider = provider
        self.timeout_s = timeout_s
        self.queue_timeout_s = queue_timeout_s if queue_timeout_s is not None else timeout_s
        self.pool = DaemonPool(f"call-{provider}", workers)

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()``'s result, or ``ProviderTimeout`` when it takes longer than the deadline.
        Whatever fails is raised as a ``ProviderError``."""
        started = threading.Event()

        def run() -> T:
            started.set()
            return fn()

        future = self._submit(run)
        self._await_start(future, started)
        done, _ = wait([future], timeout=self.timeout_s)
        if not done:
            future.cancel()
            raise ProviderTimeout(self.provider, self.timeout_s)
        if future.cancelled():
            raise self._closed_error()
        exc = future.exception()
        if exc is not None:
            self._fail(exc)
        return future.result()

    def stream(self, open_stream: Callable[[], Iterable[T]]) -> Iterator[T]:
        """The pieces of ``open_stream()``, produced on a pool thread. Each piece, the first
        included, must come within the deadline; whatever fails is raised as a
        ``ProviderError``. Closing this iterator tells the producer to stop: it closes the
        provider's iterator before it takes another piece."""
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=STREAM_BUFFER)
        stop = threading.Event()
        started = threading.Event()

        def run() -> None:
            started.set()
            _produce(open_stream, pieces, stop)

        future = self._submit(run)
        # Cancelled before it ran (the pool was shut down): nothing will come, say so now.
        future.add_done_callback(lambda f: pieces.put_nowait(("closed", None)) if f.cancelled() else None)
        try:
            self._await_start(future, started)
            while True:
                try:
                    kind, value = pieces.get(timeout=self.timeout_s)
                except queue.Empty:
                    raise ProviderTimeout(self.provider, self.timeout_s) from None
                if kind == "piece":
                    yield value
                elif kind == "end":
                    return
                elif kind == "closed":
                    raise self._closed_error()
                else:
                    self._fail(value)
        finally:
            stop.set()
            future.cancel()
            _drain(pieces)  # unblocks a producer waiting on a full buffer

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _await_start(self, future: Future[Any], started: threading.Event) -> None:
        """Wait (at most ``queue_timeout_s``) for a thread to take the call up."""
        if started.wait(self.queue_timeout_s) or future.done():
            return
        future.cancel()
        if not started.is_set():  # (it may have started just now: then it runs on)
            raise ProviderTimeout(self.provider, self.queue_timeout_s, "not started")

    def _submit(self, fn: Callable[[], T]) -> Future[T]:
        try:
            return self.pool.submit(fn)
        except RuntimeError:
            raise self._closed_error() from None

    def _closed_error(self) -> ProviderError:
        return ProviderError(self.provider, "is closed", retryable=False)

    def _fail(self, exc: BaseException) -> NoReturn:
        """Raises what the provider raised as a ``ProviderError``."""
        if isinstance(exc, ProviderError):
            raise exc
        # The type only: a message may quote what the person said.
        log.warning("%s failed unexpectedly: %s", self.provider, type(exc).__name__)
        log.debug("%s: failure details", self.provider, exc_info=exc)
        raise ProviderError(self.provider, f"unexpected {type(exc).__name__}", retryable=False) from exc


def _produce(open_stream: Callable[[], Iterable[Any]], out: queue.Queue[tuple[str, Any]],
             stop: threading.Event) -> None:
    inner: Iterator[Any] | None = None
    try:
        inner = iter(open_stream())
        while not stop.is_set():
            try:
                piece = next(inner)
            except StopIteration:
                _offer(out, ("end", None), stop)
                return
            if not _offer(out, ("piece", piece), stop):
                return
    except Exception as exc:  # noqa: BLE001 - handed to the consumer, which reports it
        _offer(out, ("error", exc), stop)
    finally:
        close = getattr(inner, "close", None)
        if callable(close):
            try:
                close()
            except Exception as exc:  # noqa: BLE001 - the stream is over either way
                log.debug("closing a %s stream failed: %s", type(inner).__name__, type(exc).__name__)


def _offer(out: queue.Queue[tuple[str, Any]], item: tuple[str, Any], stop: threading.Event) -> bool:
    """Puts ``item`` unless the consumer is gone; False once it is."""
    while not stop.is_set():
        try:
            out.put(item, timeout=_PUT_POLL_S)
            return True
        except queue.Full:
            continue
    return False


def _drain(pieces: queue.Queue[tuple[str, Any]]) -> None:
    while True:
        try:
            pieces.get_nowait()
        except queue.Empty:
            return
