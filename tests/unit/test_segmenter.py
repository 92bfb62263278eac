from __future__ import annotations

import pytest

from core.audio.segmenter import (
    FRAME_BYTES,
    FRAME_MS,
    Segmenter,
    SegmenterConfig,
    SpeechDiscarded,
    SpeechPaused,
    SpeechStarted,
    Utterance,
)
from tests.support.synthetic import timeline, to_pcm16

TOLERANCE_MS = 60


def run(pcm: bytes, config: SegmenterConfig | None = None) -> list:
    segmenter = Segmenter(config or SegmenterConfig())
    events = []
    for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
        events.extend(segmenter.process(pcm[i : i + FRAME_BYTES]))
    return events


@pytest.mark.parametrize("noise", [0.0005, 0.002])
def test_bursts_between_silences_give_exactly_the_expected_utterances(noise: float) -> None:
    signal, spans = timeline([
        ("silence", 500), ("speech", 600), ("silence", 800), ("speech", 1500),
        ("silence", 450), ("speech", 400), ("silence", 1000),
    ])
    events = run(to_pcm16(signal, noise_std=noise))
    utterances = [e for e in events if isinstance(e, Utterance)]
    assert len(utterances) == len(spans)
    for utterance, (start, end) in zip(utterances, spans, strict=True):
        assert abs(utterance.start_ms - start) <= TOLERANCE_MS
        assert abs(utterance.end_ms - end) <= TOLERANCE_MS
        assert not utterance.cut
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    assert len(starts) == len(spans)
    assert not [e for e in events if isinstance(e, SpeechDiscarded)]


def test_utterance_audio_keeps_pre_roll_and_hangover() -> None:
    config = SegmenterConfig(pre_roll_ms=240, hangover_ms=150)
    signal, _ = timeline([("silence", 600), ("speech", 900), ("silence", 700)])
    (utterance,) = [e for e in run(to_pcm16(signal), config) if isinstance(e, Utterance)]
    audio_ms = len(utterance.audio) / 32
    assert abs(audio_ms - (240 + utterance.duration_ms + 150)) <= FRAME_MS


def test_a_burst_shorter_than_a_word_is_discarded_as_noise() -> None:
    signal, _ = timeline([("silence", 400), ("speech", 90), ("silence", 800)])
    events = run(to_pcm16(signal), SegmenterConfig(min_word_ms=150))
    assert not [e for e in events if isinstance(e, Utterance)]
    assert len([e for e in events if isinstance(e, SpeechDiscarded)]) == 1


def test_a_stretch_as_long_as_a_short_word_is_a_short_utterance() -> None:
    """A "yes" lasts 0.2-0.3 s: kept, marked short, for the recognizer to say if it was a word."""
    signal, _ = timeline([("silence", 400), ("speech", 210), ("silence", 800)])
    (utterance,) = [e for e in run(to_pcm16(signal)) if isinstance(e, Utterance)]
    assert utterance.short and not utterance.cut
    signal, _ = timeline([("silence", 400), ("speech", 500), ("silence", 800)])
    (longer,) = [e for e in run(to_pcm16(signal)) if isinstance(e, Utterance)]
    assert not longer.short


def test_pause_shorter_than_end_silence_keeps_one_utterance() -> None:
    signal, _ = timeline([("silence", 300), ("speech", 500), ("silence", 200), ("speech", 500),
                          ("silence", 600)])
    utterances = [e for e in run(to_pcm16(signal)) if isinstance(e, Utterance)]
    assert len(utterances) == 1
    assert abs(utterances[0].duration_ms - 1200) <= TOLERANCE_MS


def test_maximum_length_forces_a_cut() -> None:
    config = SegmenterConfig(max_utterance_ms=2000)
    signal, _ = timeline([("silence", 300), ("speech", 3000), ("silence", 600)])
    utterances = [e for e in run(to_pcm16(signal), config) if isinstance(e, Utterance)]
    assert utterances[0].cut
    assert abs(utterances[0].duration_ms - 2000) <= FRAME_MS
    assert len(utterances) == 2  # the rest of the speech is a new utterance


def test_end_of_utterance_is_decided_after_the_configured_silence() -> None:
    config = SegmenterConfig(end_silence_ms=300)
    signal, (span,) = timeline([("silence", 300), ("speech", 800), ("silence", 1000)])
    pcm = to_pcm16(signal)
    segmenter = Segmenter(config)
    decided_at = None
    for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
        if any(isinstance(e, Utterance) for e in segmenter.process(pcm[i : i + FRAME_BYTES])):
            decided_at = segmenter.now_ms
    assert decided_at is not None
    assert 300 <= decided_at - span[1] <= 300 + TOLERANCE_MS


def test_frames_of_the_wrong_size_are_refused() -> None:
    with pytest.raises(ValueError):
        Segmenter(SegmenterConfig()).process(b"\x00" * 100)


def test_a_pause_announces_the_speech_so_far_before_the_end_is_decided() -> None:
    config = SegmenterConfig(speculate_after_ms=90, end_silence_ms=300)
    signal, spans = timeline([("silence", 300), ("speech", 600), ("silence", 200), ("speech", 600),
                              ("silence", 600)])
    events = run(to_pcm16(signal), config)
    pauses = [e for e in events if isinstance(e, SpeechPaused)]
    (utterance,) = [e for e in events if isinstance(e, Utterance)]
    assert len(pauses) == 2  # the mid-sentence pause and the real end
    assert abs(pauses[0].end_ms - spans[0][1]) <= TOLERANCE_MS
    assert pauses[1].end_ms == utterance.end_ms
    assert events.index(pauses[1]) < events.index(utterance)
    assert utterance.audio.startswith(pauses[1].audio[: len(pauses[1].audio) - 3 * FRAME_BYTES])


def test_room_noise_after_digital_silence_is_not_speech() -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    zeros = b"\x00\x00" * 16000
    noise = rng.normal(0, 30, 32000).astype("<i2").tobytes()  # about -60 dBFS
    events = run(zeros + noise + zeros + noise)
    assert events == []
