"""The recovery layer around providers, part one: the circuit breaker, retries, deadlines,
the checks of what providers return, streams; driven by fault-injecting wrappers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from core.providers.base import ProviderError
from core.providers.guards.circuit import CircuitBreaker
from core.providers.guards.deadline import ProviderTimeout
from core.providers.guards.guarded import GuardedLLM, GuardedSTT, GuardedTTS
from monitoring.soak.fault_injection import FaultyLLM, FaultySTT, FaultyTTS
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.guarding import FAST, policy
from tests.support.wait import wait_until


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


def test_the_view_of_the_words_is_the_active_providers_and_a_failure_is_none(
        guard: Callable[[Any], Any]) -> None:
    class Weighing(FakeLLM):
        def __init__(self, fail: bool) -> None:
            super().__init__()
            self.fail = fail

        def line_ends_here(self, history: Any, words: str) -> float | None:
            if self.fail:
                raise ProviderError(self.name, "busy", retryable=True)
            return 0.25

    assert guard(GuardedLLM(Weighing(False), policy())).line_ends_here([], "my sister") == 0.25
    failing = guard(GuardedLLM(Weighing(True), policy(failure_threshold=1)))
    assert failing.line_ends_here([], "my sister") is None
    assert failing.circuit.consecutive_failures == 0
    assert guard(GuardedLLM(FakeLLM(), policy())).line_ends_here([], "my sister") is None  # no view
