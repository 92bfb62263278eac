"""Provider wrappers that survive a provider failing: deadlines, output checks, retries,
a circuit breaker, a fallback provider while the circuit is open, and a background
probe that closes the circuit once the primary answers again.

The wrappers implement the provider interfaces, so the rest of the server uses them as
it uses any provider. Sessions poll ``status()`` and compare ``version`` with the last
one they saw to tell the person when a provider was switched or restored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from core.audio import resample_pcm16
from core.call_deadline import CallRunner, ProviderTimeout
from core.circuit import CircuitBreaker, CircuitState
from core.providers.base import LLMProvider, Message, ProviderError, STTProvider, TTSProvider

log = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P", STTProvider, LLMProvider, TTSProvider)
Role = Literal["stt", "llm", "tts"]
Check = Callable[[str, object], T]

_PROBE_SILENCE = bytes(16_000)  # 0.5 s of PCM16 at 16 kHz

__all__ = ["GuardedLLM", "GuardedSTT", "GuardedTTS", "ProviderStatus", "ProviderTimeout", "RecoveryPolicy"]


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


class _Route(NamedTuple):
    provider: Any  # the role's provider type
    runner: CallRunner
    is_primary: bool


def _unusable(name: str) -> ProviderError:
    return ProviderError(name, "returned unusable output", retryable=True)


def _worth_retrying(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable and not isinstance(exc, ProviderTimeout)


# Control characters in a transcript: whitespace ones become spaces, the others go.
_TRANSCRIPT_CONTROLS = {c: (" " if chr(c) in "\t\n\r\x0b\x0c" else None)
                       for c in (*range(0x20), *range(0x7F, 0xA0))}


def _check_transcript(name: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise _unusable(name)
    return raw.translate(_TRANSCRIPT_CONTROLS)


def _check_text_piece(name: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise _unusable(name)
    return raw


def _check_audio_piece(name: str, raw: object) -> bytes:
    if not isinstance(raw, bytes | bytearray) or not raw or len(raw) % 2:
        raise _unusable(name)
    return bytes(raw)


class _Guarded(Generic[P]):
    """What the three wrappers share; each adds its role's methods and its probe."""

    role: Role

    def __init__(self, primary: P, policy: RecoveryPolicy, fallback: P | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = primary.name
        self.policy = policy
        self.circuit = CircuitBreaker(policy.failure_threshold, clock)
        self._primary = _Route(primary, CallRunner(primary.name, policy.attempt_timeout_s,
                                                   policy.call_workers, policy.queue_timeout_s), True)
        self._fallback = None if fallback is None else _Route(
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
    def _active_route(self) -> _Route | None:
        if not self.circuit.is_open:
            return self._primary
        return self._fallback

    def _route(self) -> _Route:
        route = self._active_route()
        if route is None:
            raise ProviderError(self.name, "is not answering; trying again shortly", retryable=True)
        return route

    def _backup(self, route: _Route, error: ProviderError) -> _Route:
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

    def _call_once(self, route: _Route, fn: Callable[[P], object], check: Check[T]) -> T:
        return check(route.provider.name, route.runner.call(lambda: fn(route.provider)))

    def _open_stream(self, route: _Route, fn: Callable[[P], Iterable[object]],
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
    def _record(self, route: _Route, error: ProviderError | None) -> None:
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

    def _probe_once(self, route: _Route) -> None:
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

    def _probe_first_piece(self, route: _Route, fn: Callable[[P], Iterable[object]],
                           check: Check[Any]) -> None:
        pieces, _first = self._open_stream(route, fn, check)
        pieces.close()  # type: ignore[attr-defined]


class GuardedSTT(_Guarded[STTProvider], STTProvider):
    role: Role = "stt"

    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        return self._call(lambda p: p.transcribe(pcm16, sample_rate), _check_transcript)

    def _probe_once(self, route: _Route) -> None:
        self._call_once(route, lambda p: p.transcribe(_PROBE_SILENCE, 16_000), _check_transcript)


class GuardedLLM(_Guarded[LLMProvider], LLMProvider):
    role: Role = "llm"

    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        return self._stream(lambda p: p.stream_reply(history, user_text, avoid=avoid), _check_text_piece)

    def prepare(self, history: Sequence[Message]) -> None:
        """Best effort on the active provider: a failure here is not the provider's fault
        as far as the circuit goes, and the next reply does not need it."""
        route = self._active_route()
        if route is None:
            return
        try:
            route.runner.call(lambda: route.provider.prepare(history))
        except Exception as exc:  # noqa: BLE001 - it only saves time; the reply still works
            log.debug("llm: %s could not prepare the next prompt: %s", route.provider.name,
                      type(exc).__name__)

    def _probe_once(self, route: _Route) -> None:
        self._probe_first_piece(route, lambda p: p.stream_reply([], "hi"), _check_text_piece)


class GuardedTTS(_Guarded[TTSProvider], TTSProvider):
    """``sample_rate`` is the primary's. The interface has one rate per provider, so a
    fallback at another rate cannot label its audio: its audio is resampled instead."""

    role: Role = "tts"

    def __init__(self, primary: TTSProvider, policy: RecoveryPolicy, fallback: TTSProvider | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(primary, policy, fallback, clock)
        self.sample_rate = primary.sample_rate

    def synthesize(self, text: str) -> Iterator[bytes]:
        return self._stream(lambda p: _at_rate(p.synthesize(text), p.sample_rate, self.sample_rate),
                            _check_audio_piece)

    def _probe_once(self, route: _Route) -> None:
        self._probe_first_piece(route, lambda p: p.synthesize("ok"), _check_audio_piece)


def _at_rate(pieces: Iterable[object], source_rate: int, rate: int) -> Iterator[object]:
    """A fallback voice's audio at the primary's rate (linear interpolation, fine for speech).
    Pieces that are not PCM16 are left for the output check to reject."""
    try:
        for pcm in pieces:
            if source_rate != rate and isinstance(pcm, bytes) and pcm and len(pcm) % 2 == 0:
                pcm = resample_pcm16(pcm, source_rate, rate)
                if not pcm:  # shorter than one output sample
                    continue
            yield pcm
    finally:
        close = getattr(pieces, "close", None)
        if callable(close):
            close()
