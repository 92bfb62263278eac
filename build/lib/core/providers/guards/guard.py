"""What every guarded provider does, whatever its role: a deadline on each call,
retries, a circuit breaker, a fallback provider while the circuit is open, and a
background probe that closes the circuit once the primary answers again.

``Guard`` is the machinery; ``core.providers.guards.guarded`` has the three wrappers
(speech recognition, replies, voice) built on it, with their output checks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from core.providers.base import LLMProvider, ProviderError, STTProvider, TTSProvider
from core.providers.guards.circuit import CircuitBreaker, CircuitState
from core.providers.guards.deadline import CallRunner, ProviderTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P", STTProvider, LLMProvider, TTSProvider)
Role = Literal["stt", "llm", "tts"]
Check = Callable[[str, object], T]

_PROBE_SILENCE = bytes(16_000)  # 0.5 s of PCM16 at 16 kHz

@dataclass(frozen=True)
class RecoveryPolicy:
    attempt_timeout_s: float = 3.0  # for a call's first output and between stream pieces
    attempts: int = 2  # per call, the first included
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 0.5
    failure_threshold: int = 3  # consecutive failed calls that open the circuit
    probe_interval_s: float = 5.0
    call_workers: int = 4  # threads per provider; keep >= the turn workers that call it
    queue_timeout_s: float = 10.0  # a call not started by then (all threads busy) fails

    def __post_init__(self) -> None:
        if self.attempt_timeout_s <= 0 or self.probe_interval_s <= 0:
            raise ValueError("timeouts and intervals must be positive")
        if min(self.attempts, self.failure_threshold, self.call_workers) < 1:
            raise ValueError("attempts, failure_threshold and call_workers must be at least 1")


@dataclass(frozen=True)
class ProviderStatus:
    role: Role
    primary: str
    active: str
    circuit: CircuitState
    version: int
    using_fallback: bool


class Route(NamedTuple):
    provider: Any  # the role's provider type
    runner: CallRunner
    is_primary: bool


def _worth_retrying(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable and not isinstance(exc, ProviderTimeout)


class Guard(Generic[P]):
    """What the three wrappers share; each adds its role's methods and its probe."""

    role: Role

    def __init__(self, primary: P, policy: RecoveryPolicy, fallback: P | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = primary.name
        self.policy = policy
        self.circuit = CircuitBreaker(policy.failure_threshold, clock)
        self._primary = Route(primary, CallRunner(primary.name, policy.attempt_timeout_s,
                                                   policy.call_workers, policy.queue_timeout_s), True)
        self._fallback = None if fallback is None else Route(
            fallback, CallRunner(fallback.name, policy.attempt_timeout_s, policy.call_workers,
                                 policy.queue_timeout_s), False)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._probe_thread: threading.Thread | None = None
        self._closed = False

    # ----- what sessions read ---------------------------------------------------------
    @property
    def primary(self) -> P:
        """The provider guarded (to try it directly, e.g. a voice before it is chosen)."""
        return self._primary.provider

    @property
    def active(self) -> P:
        """The provider calls go to now."""
        route = self._active_route()
        return route.provider if route is not None else self._primary.provider

    def status(self) -> ProviderStatus:
        state, version = self.circuit.snapshot()
        using_fallback = state == "open" and self._fallback is not None
        route = self._fallback if using_fallback and self._fallback is not None else self._primary
        return ProviderStatus(self.role, self._primary.provider.name, route.provider.name, state,
                              version, using_fallback)

    # ----- lifecycle --------------------------------------------------------------------
    def warm_up(self) -> None:
        self.active.warm_up()

    def close(self) -> None:
        """Stops the probe and the pools without waiting for hung calls, then closes the
        primary provider."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            probe = self._probe_thread
        self._stop.set()
        routes = [r for r in (self._primary, self._fallback) if r is not None]
        for route in routes:
            route.runner.close()
        if probe is not None:
            # Ends at once unless a probe call is in flight; that one has a deadline.
            probe.join(timeout=self.policy.attempt_timeout_s + 1.0)
        self._primary.provider.close()  # (the fallback belongs to whoever made it: often shared)

    # ----- calls ------------------------------------------------------------------------
    def _active_route(self) -> Route | None:
        if not self.circuit.is_open:
            return self._primary
        return self._fallback

    def _route(self) -> Route:
        route = self._active_route()
        if route is None:
            raise ProviderError(self.name, "is not answering; trying again shortly", retryable=True)
        return route

    def _backup(self, route: Route, error: ProviderError) -> Route:
        """The primary failed this call: the fallback takes the call over, if there is one
        (so the turn is answered even before the circuit opens); else ``error`` stands."""
        if not route.is_primary or self._fallback is None:
            raise error
        self._record(route, error)
        log.info("%s: %s failed this call; %s answers it", self.role, self.name,
                 self._fallback.provider.name)
        return self._fallback

    def _call(self, fn: Callable[[P], object], check: Check[T]) -> T:
        route = self._route()
        try:
            try:
                result = self._retrying(lambda: self._call_once(route, fn, check))
            except ProviderError as exc:
                route = self._backup(route, exc)
                result = self._retrying(lambda: self._call_once(route, fn, check))
        except ProviderError as exc:
            self._record(route, exc)
            raise
        self._record(route, None)
        return result

    def _stream(self, fn: Callable[[P], Iterable[object]], check: Check[T]) -> Iterator[T]:
        """Retried only until the first piece: after that, a failure goes to the caller."""
        route = self._route()
        pieces: Iterator[object] | None = None
        name = route.provider.name
        try:
            try:
                pieces, first = self._retrying(lambda: self._open_stream(route, fn, check))
            except ProviderError as exc:
                route = self._backup(route, exc)
                name = route.provider.name
                pieces, first = self._retrying(lambda: self._open_stream(route, fn, check))
            yield from first
            for raw in pieces:
                yield check(name, raw)
        except ProviderError as exc:
            self._record(route, exc)
            raise
        finally:
            if pieces is not None:
                pieces.close()  # type: ignore[attr-defined]
        self._record(route, None)

    def _call_once(self, route: Route, fn: Callable[[P], object], check: Check[T]) -> T:
        return check(route.provider.name, route.runner.call(lambda: fn(route.provider)))

    def _open_stream(self, route: Route, fn: Callable[[P], Iterable[object]],
                     check: Check[T]) -> tuple[Iterator[object], list[T]]:
        """The running stream and its first piece (none when it is empty)."""
        pieces = route.runner.stream(lambda: fn(route.provider))
        try:
            first = [check(route.provider.name, next(pieces))]
        except StopIteration:
            first = []
        except ProviderError:
            pieces.close()
            raise
        return pieces, first

    def _retrying(self, attempt: Callable[[], T]) -> T:
        policy = self.policy
        retrying = Retrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait_exponential(multiplier=policy.backoff_initial_s, max=policy.backoff_max_s),
            retry=retry_if_exception(_worth_retrying),
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(attempt)

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        provider = error.provider if isinstance(error, ProviderError) else self.name
        log.info("%s: attempt %d on %s failed; trying again", self.role, state.attempt_number, provider)

    # ----- circuit and probe ------------------------------------------------------------
    def _record(self, route: Route, error: ProviderError | None) -> None:
        if not route.is_primary:
            return
        if error is None:
            if self.circuit.record_success():
                log.info("%s: %s answers again; back in use", self.role, self.name)
            return
        if self.circuit.record_failure():
            fallback = self._fallback.provider.name if self._fallback is not None else None
            log.warning("%s: %s is not answering; %s", self.role, self.name,
                        f"using {fallback} meanwhile" if fallback else "calls fail at once meanwhile")
            self._start_probe()

    def _probe_once(self, route: Route) -> None:
        """One cheap call to ``route`` under the deadline; raises when it fails."""
        raise NotImplementedError

    def _start_probe(self) -> None:
        with self._lock:
            if self._closed or self._probe_thread is not None:
                return
            self._probe_thread = threading.Thread(target=self._probe_loop, daemon=True,
                                                  name=f"probe-{self.role}-{self.name}")
            self._probe_thread.start()

    def _probe_loop(self) -> None:
        while True:
            with self._lock:  # decided under the lock _start_probe reads: no probe is lost
                if self._closed or not self.circuit.is_open:
                    self._probe_thread = None
                    return
            if self._stop.wait(self.policy.probe_interval_s):
                return
            if not self.circuit.is_open:
                continue
            try:
                self._probe_once(self._primary)
            except Exception as exc:  # noqa: BLE001 - a failed probe only means "not yet"
                log.debug("%s: probe of %s failed: %s", self.role, self.name, type(exc).__name__)
                continue
            if self.circuit.record_success():
                log.info("%s: %s answers again; back in use", self.role, self.name)

    def _probe_first_piece(self, route: Route, fn: Callable[[P], Iterable[object]],
                           check: Check[Any]) -> None:
        pieces, _first = self._open_stream(route, fn, check)
        pieces.close()  # type: ignore[attr-defined]


