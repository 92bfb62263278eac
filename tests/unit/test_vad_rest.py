"""The speech model rests through quiet stretches, and decides the same as when it never rests."""

from __future__ import annotations

import numpy as np
import pytest

import core.audio.vad as vad
from core.audio.segmenter import FRAME_BYTES
from monitoring.clients.voice_client import read_wav_16k_mono
from tests.conftest import FIXTURES


def frames(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)]


def room_noise(seconds: float, seed: int = 0) -> bytes:
    samples = np.random.default_rng(seed).normal(0, 20, int(16_000 * seconds))
    return samples.astype("<i2").tobytes()


def decisions(pcm: bytes) -> list[vad.FrameVoice]:
    detector = vad.SpeechDetector(2, neural=True)
    return [detector(frame) for frame in frames(pcm)]


def test_the_model_is_not_run_on_an_open_microphone_in_a_quiet_room(monkeypatch) -> None:
    calls = []
    original = vad.SpeechProbability.feed
    def counted(self: vad.SpeechProbability, pcm: bytes, batch: vad.VoiceBatch) -> vad.Probability:
        calls.append(1)
        return original(self, pcm, batch)

    monkeypatch.setattr(vad.SpeechProbability, "feed", counted)
    detector = vad.SpeechDetector(2, neural=True)
    for frame in frames(room_noise(10.0)):
        assert detector(frame) == vad.FrameVoice(False, False)
    assert len(calls) <= vad.NEURAL_REST_AFTER_FRAMES + 1  # then nothing for ~9.7 s


@pytest.mark.parametrize("name", ["beckett.wav", "paused_1_a.wav", "question_3.wav"])
def test_resting_changes_no_decision_on_real_speech(monkeypatch, name: str) -> None:
    speech = read_wav_16k_mono(FIXTURES / name)
    pcm = room_noise(2.0) + speech + room_noise(1.0, seed=1) + speech + room_noise(2.0, seed=2)
    resting = decisions(pcm)
    monkeypatch.setattr(vad, "NEURAL_REST_AFTER_FRAMES", 10**9)
    always = decisions(pcm)
    assert sum(v.speech for v in always) > 20  # real speech was heard
    # A rested model starts from its initial state, not from where the silence left it:
    # a frame or two near a threshold may fall the other way, never a word.
    differing = sum(a != b for a, b in zip(resting, always, strict=True))
    assert differing <= len(always) * 0.02, differing
    last_speech = [max(i for i, v in enumerate(run) if v.speech) for run in (resting, always)]
    assert last_speech[0] == last_speech[1]  # where the words end is unchanged
