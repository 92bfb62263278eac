"""Whisper on quarter-second words and on short noises: a quickly said "No." has words,
a click or a cough has none (the no-speech check for clips of a second or less)."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.bench.material import one_word_answers

pytestmark = pytest.mark.models

QUIET = 30  # room noise at about -60 dBFS, around every clip as the segmenter hands it over


def _with_margins(samples: np.ndarray, rng: np.random.Generator) -> bytes:
    lead = rng.normal(0, QUIET, 150 * 16).astype(np.int16)
    tail = rng.normal(0, QUIET, 60 * 16).astype(np.int16)
    return np.concatenate([lead, samples.astype(np.int16), tail]).tobytes()


def test_quickly_said_one_word_answers_have_words(real_providers) -> None:
    rng = np.random.default_rng(0)
    quick = [c for c in one_word_answers() if c.kind == "quick"]
    stt = real_providers.stt
    heard = {(c.voice, c.word): stt.transcribe(_with_margins(np.frombuffer(c.pcm, np.int16), rng))
             for c in quick}
    empty = [key for key, text in heard.items() if not text.strip()]
    # 24 of 30 had words with the window-wide no-speech check, 30 of 30 with the short-clip one
    assert len(empty) <= 1, empty


@pytest.mark.parametrize("noise", ["click", "cough", "hum", "hiss"])
def test_short_noises_have_no_words(real_providers, noise: str) -> None:
    rng = np.random.default_rng(1)
    sounds = {
        "click": np.concatenate([rng.normal(0, 12000, 160), np.zeros(3000)]),
        "cough": rng.normal(0, 1, 4800) * np.exp(-np.arange(4800) / 1200) * 9000,
        "hum": 3000 * np.sin(2 * np.pi * 120 * np.arange(4000) / 16000),
        "hiss": rng.normal(0, 3000, 3200),
    }
    assert real_providers.stt.transcribe(_with_margins(sounds[noise], rng)) == ""
