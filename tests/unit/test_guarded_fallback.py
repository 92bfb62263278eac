"""The recovery layer around providers, part two: the fallback while the circuit is open,
the probe that closes it, a fallback voice at another rate, providers that serve one
call at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from core.audio.resample import StreamResampler
from core.providers.base import ProviderError
from core.providers.guards.deadline import ProviderTimeout
from core.providers.guards.guarded import GuardedLLM, GuardedSTT, GuardedTTS
from monitoring.soak.fault_injection import FaultyLLM, FaultySTT, FaultyTTS
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.guarding import named, policy
from tests.support.wait import wait_until


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
    # One streaming resampler for the whole sentence: the same samples as resampling it
    # all at once (no restart, no click at the pieces' edge), twice as many at twice the rate.
    spoken = np.frombuffer(b"".join(FakeTTS(chunks=2).synthesize("hello")), dtype="<i2")
    at_once = StreamResampler(8_000, 16_000).process(spoken, last=True)
    assert b"".join(pieces) == at_once.astype("<i2").tobytes()
    assert len(at_once) == 2 * len(spoken) and len(pieces) >= 2


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
