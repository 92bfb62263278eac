"""Many streams' speech models stepped in one call (core/audio/neural_vad.py) decide
exactly what each stream's model decides alone, with the streams at different places,
some reset (a model that rested) and some feeding several chunks in one round."""

from __future__ import annotations

import numpy as np

from core.audio.neural_vad import SpeechProbability, VoiceBatch
from core.audio.segmenter import FRAME_BYTES
from core.audio.vad import FrameVoice, SpeechDetector
from monitoring.clients.voice_client import read_wav_16k_mono
from tests.conftest import FIXTURES

CLIPS = ["beckett.wav", "question_1.wav", "question_3.wav", "paused_2_a.wav"]


def room_noise(seconds: float, seed: int) -> bytes:
    return np.random.default_rng(seed).normal(0, 20, int(16_000 * seconds)).astype("<i2").tobytes()


def streams() -> list[bytes]:
    """Real speech with quiet stretches long enough for the model to rest, offset so
    that the streams' chunks and rests fall at different rounds."""
    made = []
    for i, name in enumerate(CLIPS):
        speech = read_wav_16k_mono(FIXTURES / name)
        pcm = room_noise(0.1 * i, i) + speech + room_noise(0.8, 10 + i) + speech
        made.append(pcm[: len(pcm) // FRAME_BYTES * FRAME_BYTES])
    return made


def frames(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


def alone(pcm: bytes) -> list[FrameVoice]:
    detector = SpeechDetector(2, neural=True)
    return [detector(frame) for frame in frames(pcm)]


def together(pcms: list[bytes], frames_per_round: list[int], batched: bool) -> list[list[FrameVoice]]:
    """Every stream staged into one batch per round (stream i takes frames_per_round[i]
    frames a round), the batch run, then each stream's frames resolved in order."""
    detectors = [SpeechDetector(2, neural=True) for _ in pcms]
    queues = [frames(pcm) for pcm in pcms]
    decided: list[list[FrameVoice]] = [[] for _ in pcms]
    while any(queues):
        batch = VoiceBatch(batched)
        staged = []
        for i, (detector, queue) in enumerate(zip(detectors, queues, strict=True)):
            taken, queues[i] = queue[: frames_per_round[i]], queue[frames_per_round[i]:]
            staged.append([detector.stage(frame, batch) for frame in taken])
        batch.run()
        for detector, mine, out in zip(detectors, staged, decided, strict=True):
            out.extend(detector.resolve(s) for s in mine)
    return decided


def test_streams_stepped_together_decide_as_each_alone() -> None:
    pcms = streams()
    expected = [alone(pcm) for pcm in pcms]
    assert all(sum(v.speech for v in run) > 20 for run in expected)  # real speech was heard
    for batched in (True, False):
        assert together(pcms, [1, 1, 1, 1], batched) == expected
        assert together(pcms, [1, 3, 2, 5], batched) == expected  # several chunks a round


def test_probabilities_match_a_lone_stream_to_float_precision() -> None:
    pcms = streams()
    lone = [SpeechProbability() for _ in pcms]
    shared = [SpeechProbability() for _ in pcms]
    for step in range(0, min(len(p) for p in pcms) - 1024, 1024):
        batch = VoiceBatch()
        pending = [m.feed(pcm[step : step + 1024], batch) for m, pcm in zip(shared, pcms, strict=True)]
        batch.run()
        for model, pcm, result in zip(lone, pcms, pending, strict=True):
            assert abs(model.push(pcm[step : step + 1024]) - result.probability) < 1e-5
