"""The per-frame fast paths compute what the plain code computed: the frame's RMS, the
speech model's probabilities, and the provider changes a session polls for."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.neural_vad import CHUNK_SAMPLES, CONTEXT_SAMPLES, SpeechProbability, shared_session
from core.audio.vad import frame_rms
from core.providers.base import Providers
from core.providers.guards.guard import RecoveryPolicy
from core.providers.guards.guarded import GuardedLLM
from core.providers.guards.recovery import ProviderWatch
from monitoring.bench import frame_cost
from monitoring.clients.voice_client import read_wav_16k_mono
from tests.conftest import FIXTURES
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS


def reference_probabilities(pcm: bytes, step: int) -> list[float]:
    """The model run the plain way: a fresh window per chunk, the state passed around."""
    session = shared_session()
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    h = np.zeros((1, 1, 128), dtype=np.float32)
    c = np.zeros((1, 1, 128), dtype=np.float32)
    context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
    after_chunk: list[float] = []
    for start in range(0, samples.size - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        chunk = samples[start : start + CHUNK_SAMPLES]
        out, h, c = session.run(None, {"input": np.concatenate([context, chunk])[None, :], "h": h, "c": c})
        context = chunk[-CONTEXT_SAMPLES:]
        after_chunk.append(float(np.asarray(out).reshape(-1)[0]))
    probabilities, probability = [], 0.0
    for end in range(step, len(pcm) + 1, step):  # after each push: the last whole chunk's
        chunks = end // 2 // CHUNK_SAMPLES
        probability = after_chunk[chunks - 1] if chunks else 0.0
        probabilities.append(probability)
    return probabilities


@pytest.mark.parametrize("step", [640, 960, 1024, 1000, 4096])  # bytes pushed at a time
def test_speech_probabilities_are_those_of_the_plain_model_run(step: int) -> None:
    pcm = read_wav_16k_mono(FIXTURES / "beckett.wav")
    pcm = pcm[: len(pcm) // step * step]
    model = SpeechProbability()
    pushed = [model.push(pcm[i : i + step]) for i in range(0, len(pcm), step)]
    expected = reference_probabilities(pcm, step)
    assert max(expected) > 0.9  # real speech
    np.testing.assert_allclose(pushed, expected, atol=1e-5)


def test_a_reset_model_starts_again_from_silence() -> None:
    pcm = read_wav_16k_mono(FIXTURES / "beckett.wav")[: 40 * 960]
    model = SpeechProbability()
    first = [model.push(pcm[i : i + 960]) for i in range(0, len(pcm), 960)]
    model.reset()
    assert model.probability == 0.0
    assert [model.push(pcm[i : i + 960]) for i in range(0, len(pcm), 960)] == first


def test_frame_rms_is_the_exact_root_mean_square() -> None:
    rng = np.random.default_rng(3)
    for scale in (0, 20, 3000, 40000):
        samples = np.clip(rng.normal(0, scale, 480), -32768, 32767).astype("<i2")
        exact = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
        assert frame_rms(samples.tobytes()) == pytest.approx(exact, rel=1e-12, abs=1e-12)
    assert frame_rms(b"") == 0.0
    assert frame_rms(np.full(480, -32768, dtype="<i2").tobytes()) == 32768.0


def test_provider_changes_are_seen_once_and_only_when_they_happen() -> None:
    llm = GuardedLLM(FakeLLM(), RecoveryPolicy(failure_threshold=1))
    try:
        watch = ProviderWatch(Providers(FakeSTT(), llm, FakeTTS()))
        assert watch.changes() == []
        llm.circuit.record_failure()
        [opened] = watch.changes()
        assert (opened.role, opened.circuit) == ("llm", "open")
        assert watch.changes() == []
        llm.circuit.record_success()
        assert [s.circuit for s in watch.changes()] == ["closed"]
        assert watch.changes() == []
    finally:
        llm.close()


def test_the_frame_cost_benchmark_prints_both_figures(capsys) -> None:
    frame_cost.main(["--quiet-frames", "50", "--rounds", "1"])
    out = capsys.readouterr().out
    assert "quiet frame" in out and "speech frame" in out
