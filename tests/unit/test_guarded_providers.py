"""The recovery layer around providers: retries, deadlines, output checks, the circuit,
the fallback and the probe, driven by fault-injecting wrappers around the fakes."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.circuit import CircuitBreaker
from core.guarded_providers import GuardedLLM, GuardedSTT, GuardedTTS, ProviderTimeout, RecoveryPolicy
from core.providers.base import ProviderError
from monitoring.fault_injection import FaultyLLM, FaultySTT, FaultyTTS
from tests.fakes import FakeLLM, FakeSTT, FakeTTS

FAST = RecoveryPolicy(attempt_timeout_s=0.2, attempts=2, backoff_initial_s=0.01, backoff_max_s=0.02,
                      failure_threshold=3, probe_interval_s=30.0)


def policy(**changes: Any) -> RecoveryPolicy:
    return dataclasses.replace(FAST, **changes)


def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Checks ``predicate`` every 10 ms until it holds; fails the test after ``timeout``."""
    tick = threading.Event()
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        tick.wait(0.01)


def named(provider: Any, name: str) -> Any:
    provider.name = name
    return provider


@pytest.fixture
def guard() -> Iterator[Callable[[Any], Any]]:
    """Registers guarded providers to close after the test (which also ends any hang)."""
    made: list[Any] = []

    def keep(guarded: Any) -> Any:
        made.append(guarded)
        return guarded

    yield keep
    for guarded in made:
        guarded.close()


class LockedOutSTT(FakeSTT):
    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        self.calls += 1
        raise ProviderError(self.name, "HTTP 401: check the API key", retryable=False)


class CrashingSTT(FakeSTT):
    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        self.calls += 1
        raise RuntimeError("bug")


# ----- the circuit breaker ---------------------------------------------------------------
def test_circuit_opens_after_consecutive_failures_only() -> None:
    now = [100.0]
    breaker = CircuitBreaker(3, clock=lambda: now[0])
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # not consecutive any more
    assert not breaker.record_failure() and not breaker.record_failure()
    assert breaker.state == "closed" and breaker.version == 0
    assert breaker.record_failure()
    assert breaker.is_open and breaker.opened_at == 100.0 and breaker.version == 1
    assert not breaker.record_failure() and breaker.version == 1
    assert breaker.record_success()
    assert breaker.state == "closed" and breaker.opened_at is None and breaker.version == 2


# ----- retries, deadlines, output checks ------------------------------------------------
def test_retryable_error_is_retried_then_succeeds(guard: Callable[[Any], Any]) -> None:
    primary = FaultySTT(FakeSTT("hello there"))
    primary.inject("raise")
    stt = guard(GuardedSTT(primary, FAST))
    assert stt.transcribe(b"\0\0") == "hello there"
    assert primary.calls == 2
    assert stt.circuit.consecutive_failures == 0


def test_non_retryable_error_is_not_retried_but_counts(guard: Callable[[Any], Any]) -> None:
    inner = LockedOutSTT()
    stt = guard(GuardedSTT(FaultySTT(inner), policy(attempts=3)))
    with pytest.raises(ProviderError, match="401") as caught:
        stt.transcribe(b"\0\0")
    assert not caught.value.retryable
    assert inner.calls == 1
    assert stt.circuit.consecutive_failures == 1


def test_unexpected_exception_becomes_a_provider_error(guard: Callable[[Any], Any]) -> None:
    inner = CrashingSTT()
    stt = guard(GuardedSTT(inner, policy(attempts=3)))
    with pytest.raises(ProviderError, match="unexpected RuntimeError") as caught:
        stt.transcribe(b"\0\0")
    assert not caught.value.retryable
    assert inner.calls == 1


def test_hang_times_out_and_is_not_retried(guard: Callable[[Any], Any]) -> None:
    primary = FaultySTT(FakeSTT())
    primary.inject("hang", times=3)
    stt = guard(GuardedSTT(primary, policy(attempts=3)))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout, match=r"no answer within 0\.2 s"):
        stt.transcribe(b"\0\0")
    assert time.monotonic() - started >= 0.2
    assert primary.calls == 1
    assert stt.circuit.consecutive_failures == 1
    primary.release()


def test_garbage_transcript_is_retried_then_rejected(guard: Callable[[Any], Any]) -> None:
    primary = FaultySTT(FakeSTT())
    primary.inject("garbage", times=2)
    stt = guard(GuardedSTT(primary, FAST))
    with pytest.raises(ProviderError, match="unusable output"):
        stt.transcribe(b"\0\0")
    assert primary.calls == 2


def test_transcript_control_characters_are_removed(guard: Callable[[Any], Any]) -> None:
    stt = guard(GuardedSTT(FakeSTT("hi\x00 there\nyou\x7f"), FAST))
    assert stt.transcribe(b"\0\0") == "hi there you"


def test_garbage_reply_piece_and_odd_audio_are_rejected(guard: Callable[[Any], Any]) -> None:
    llm_inner = FaultyLLM(FakeLLM())
    llm_inner.inject("garbage", times=2)
    llm = guard(GuardedLLM(llm_inner, FAST))
    with pytest.raises(ProviderError, match="unusable output"):
        list(llm.stream_reply([], "hi"))
    tts_inner = FaultyTTS(FakeTTS())
    tts_inner.inject("garbage", times=2)
    tts = guard(GuardedTTS(tts_inner, FAST))
    with pytest.raises(ProviderError, match="unusable output"):
        list(tts.synthesize("hello"))
    assert (llm_inner.calls, tts_inner.calls) == (2, 2)


def test_stream_failing_before_its_first_piece_is_retried(guard: Callable[[Any], Any]) -> None:
    primary = FaultyLLM(FakeLLM("one two"))
    primary.inject("raise")
    llm = guard(GuardedLLM(primary, FAST))
    assert "".join(llm.stream_reply([], "hi")) == "one two "
    assert primary.calls == 2


def test_stream_failing_after_its_first_piece_is_not_retried(guard: Callable[[Any], Any]) -> None:
    primary = FaultyLLM(FakeLLM("one two three"))
    primary.inject("raise", after=1)
    llm = guard(GuardedLLM(primary, policy(attempts=3)))
    got: list[str] = []
    with pytest.raises(ProviderError, match="injected failure"):
        for piece in llm.stream_reply([], "hi"):
            got.append(piece)
    assert got == ["one "]
    assert primary.calls == 1
    assert llm.circuit.consecutive_failures == 1


def test_stream_that_stalls_between_pieces_times_out(guard: Callable[[Any], Any]) -> None:
    primary = FaultyTTS(FakeTTS(chunks=3))
    primary.inject("hang", after=1)
    tts = guard(GuardedTTS(primary, policy(attempts=3)))
    pieces = tts.synthesize("hello")
    assert len(next(pieces)) == 3200
    with pytest.raises(ProviderTimeout):
        next(pieces)
    assert primary.calls == 1
    primary.release()
    wait_until(lambda: primary.open_streams == 0)  # released, the producer saw the stop


def test_closing_the_stream_stops_the_producer(guard: Callable[[Any], Any]) -> None:
    primary = FaultyLLM(FakeLLM(" ".join(["word"] * 200)))
    llm = guard(GuardedLLM(primary, FAST))
    pieces = llm.stream_reply([], "hi")
    assert next(pieces) == "word "
    pieces.close()
    wait_until(lambda: primary.open_streams == 0)
    assert primary.pieces < 20  # the producer ran at most a buffer ahead, then stopped
    assert llm.circuit.consecutive_failures == 0


def test_prepare_failure_is_not_a_circuit_failure(guard: Callable[[Any], Any]) -> None:
    class FailingPrepare(FakeLLM):
        def prepare(self, history: Any) -> None:
            raise ProviderError(self.name, "down", retryable=True)

    llm = guard(GuardedLLM(FailingPrepare(), policy(failure_threshold=1)))
    llm.prepare([])
    assert llm.circuit.consecutive_failures == 0 and llm.status().circuit == "closed"


# ----- circuit, fallback, probe ------------------------------------------------------------
def test_a_failed_call_is_answered_by_the_fallback_and_the_circuit_opens(
        guard: Callable[[Any], Any]) -> None:
    primary = FaultySTT(FakeSTT("from primary"))
    primary.inject("raise", times=10)
    fallback = named(FakeSTT("from backup"), "backup-stt")
    stt = guard(GuardedSTT(primary, policy(attempts=1, failure_threshold=2), fallback))
    before = stt.status()
    assert (before.active, before.circuit, before.version, before.using_fallback) == \
        ("fake-stt", "closed", 0, False)
    assert stt.transcribe(b"\0\0") == "from backup"  # the primary failed: the fallback answers
    assert stt.status().circuit == "closed" and primary.calls == 1
    assert stt.transcribe(b"\0\0") == "from backup"
    status = stt.status()
    assert (status.role, status.primary, status.active) == ("stt", "fake-stt", "backup-stt")
    assert status.circuit == "open" and status.using_fallback and status.version == 1
    assert stt.active is fallback and stt.name == "fake-stt"
    assert stt.transcribe(b"\0\0") == "from backup"
    assert primary.calls == 2 and fallback.calls == 3  # an open circuit skips the primary


def test_open_circuit_without_fallback_fails_at_once(guard: Callable[[Any], Any]) -> None:
    primary = FaultySTT(FakeSTT())
    primary.inject("raise", times=10)
    stt = guard(GuardedSTT(primary, policy(attempts=1, failure_threshold=1)))
    with pytest.raises(ProviderError, match="injected failure"):
        stt.transcribe(b"\0\0")
    with pytest.raises(ProviderError, match="not answering") as caught:
        stt.transcribe(b"\0\0")
    assert caught.value.retryable
    assert primary.calls == 1


def test_probe_closes_the_circuit_once_the_primary_answers(guard: Callable[[Any], Any]) -> None:
    primary = FaultyLLM(FakeLLM("back again"))
    primary.inject("raise", times=2)  # the call that opens the circuit, then the first probe
    llm = guard(GuardedLLM(primary, policy(attempts=1, failure_threshold=1, probe_interval_s=0.05)))
    with pytest.raises(ProviderError):
        list(llm.stream_reply([], "hi"))
    assert llm.status().circuit == "open"
    assert llm.circuit.wait_for_change(1, timeout=3.0)
    status = llm.status()
    assert status.circuit == "closed" and status.version == 2 and status.active == "fake-llm"
    assert primary.calls == 3 and primary.faults_left == 0
    wait_until(lambda: not [t for t in threading.enumerate() if t.name.startswith("probe-llm")])
    assert "".join(llm.stream_reply([], "hi")) == "back again "


def test_close_releases_the_probe_and_pool_threads(guard: Callable[[Any], Any]) -> None:
    primary = FaultySTT(FakeSTT())
    primary.inject("raise")
    stt = GuardedSTT(primary, policy(attempts=1, failure_threshold=1))
    with pytest.raises(ProviderError):
        stt.transcribe(b"\0\0")
    probes = [t for t in threading.enumerate() if t.name.startswith("probe-stt")]
    assert len(probes) == 1 and probes[0].is_alive()
    workers = stt._primary.runner.pool.threads
    assert workers
    stt.close()
    assert not probes[0].is_alive()
    wait_until(lambda: not any(t.is_alive() for t in workers))
    with pytest.raises(ProviderError, match="not answering"):
        stt.transcribe(b"\0\0")


def test_tts_fallback_at_another_rate_is_resampled(guard: Callable[[Any], Any]) -> None:
    primary = FaultyTTS(FakeTTS(chunks=2))
    primary.inject("raise", times=10)
    fallback = named(FakeTTS(chunks=2), "backup-tts")
    fallback.sample_rate = 8_000
    tts = guard(GuardedTTS(primary, policy(attempts=1, failure_threshold=1), fallback))
    assert tts.sample_rate == 16_000
    pieces = list(tts.synthesize("hello"))
    assert tts.status().active == "backup-tts"
    # FakeTTS pieces are 1600 samples; at twice the rate they are twice as long.
    assert [len(p) for p in pieces] == [2 * 1600 * 2] * 2


def test_tts_fallback_at_the_same_rate_is_untouched(guard: Callable[[Any], Any]) -> None:
    primary = FaultyTTS(FakeTTS(chunks=1))
    primary.inject("raise", times=10)
    fallback = named(FakeTTS(chunks=1), "backup-tts")
    tts = guard(GuardedTTS(primary, policy(attempts=1, failure_threshold=1), fallback))
    direct = next(iter(FakeTTS(chunks=1).synthesize("hello")))
    assert list(tts.synthesize("hello")) == [direct]


class HeldSTT(FakeSTT):
    """Each call waits for ``release`` (a model busy with a long call)."""

    def __init__(self) -> None:
        super().__init__("done")
        self.release = threading.Event()
        self.running = threading.Event()

    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        self.running.set()
        self.release.wait(5)
        return super().transcribe(pcm16, sample_rate)


class SlowSTT(FakeSTT):
    """Each call takes ``seconds`` (a model working), one at a time."""

    def __init__(self, seconds: float) -> None:
        super().__init__("done")
        self.seconds = seconds
        self.running = threading.Event()

    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        self.running.set()
        threading.Event().wait(self.seconds)  # the work itself, not a synchronization
        return super().transcribe(pcm16, sample_rate)


def test_a_serial_provider_is_waited_for_in_line_not_timed_out(guard: Callable[[Any], Any]) -> None:
    inner = SlowSTT(0.4)
    stt = guard(GuardedSTT(inner, policy(call_workers=1, attempt_timeout_s=0.6, queue_timeout_s=5.0)))
    results: list[object] = []

    def call() -> None:
        try:
            results.append(stt.transcribe(b"\0\0"))
        except ProviderError as exc:
            results.append(exc)

    first = threading.Thread(target=call)
    first.start()
    assert inner.running.wait(2)
    second = threading.Thread(target=call)
    second.start()
    first.join(5)
    second.join(5)
    # The second call waited ~0.4 s in line and then ran 0.4 s: 0.8 s in all, past the 0.6 s
    # deadline, yet not a timeout: the deadline counts from when a call starts.
    assert results == ["done", "done"], results


def test_a_call_that_never_gets_a_thread_fails_after_the_queue_timeout(guard: Callable[[Any], Any]) -> None:
    inner = HeldSTT()
    stt = guard(GuardedSTT(inner, policy(call_workers=1, attempt_timeout_s=0.2, queue_timeout_s=0.3,
                                         attempts=1)))
    with pytest.raises(ProviderTimeout):
        stt.transcribe(b"\0\0")  # hangs past its deadline; its thread stays busy
    with pytest.raises(ProviderTimeout, match="not started"):
        stt.transcribe(b"\0\0")
    inner.release.set()
