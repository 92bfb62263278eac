"""Where speech ends, on a real voice: breaths between phrases are not words."""

from __future__ import annotations

from core.audio.segmenter import FRAME_BYTES, Segmenter, SegmenterConfig, Utterance
from monitoring.clients.voice_client import read_wav_16k_mono
from tests.conftest import FIXTURES

# "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better." The person
# pauses 0.4-1.1 s between phrases and breathes in most of those pauses.
PHRASES = 6


def utterances(neural: bool) -> list[Utterance]:
    pcm = read_wav_16k_mono(FIXTURES / "beckett.wav") + b"\x00" * 32_000
    segmenter = Segmenter(SegmenterConfig(end_silence_ms=400, neural=neural))
    found = []
    for start in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
        found += [e for e in segmenter.process(pcm[start : start + FRAME_BYTES]) if isinstance(e, Utterance)]
    return found


def test_each_phrase_ends_where_its_words_end() -> None:
    found = utterances(neural=True)
    assert len(found) == PHRASES
    assert all(300 <= u.duration_ms <= 1200 for u in found)


def test_without_the_neural_check_breaths_join_phrases_together() -> None:
    # The reason for the check: with webrtcvad and the energy gate alone, the breaths
    # bridge 400 ms pauses, and three phrases become one utterance.
    assert len(utterances(neural=False)) < PHRASES

