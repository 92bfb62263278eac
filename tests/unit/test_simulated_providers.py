"""The simulated providers keep their promised timing shape and produce real audio."""

from __future__ import annotations

import time

import numpy as np

from core.providers.simulated import SimulatedLLM, SimulatedSTT, SimulatedTimings, SimulatedTTS

QUICK = SimulatedTimings(stt_ms=40, llm_first_token_ms=60, llm_tokens_per_s=400, tts_first_audio_ms=50,
                         tts_realtime_factor=50, jitter=0.0)


def test_stt_answers_after_its_delay_with_a_question() -> None:
    started = time.perf_counter()
    text = SimulatedSTT(QUICK).transcribe(bytes(32_000))  # one second of audio
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert text.endswith("?") and elapsed_ms >= 40 + 20


def test_llm_streams_a_reply_after_its_first_token_delay() -> None:
    stream = SimulatedLLM(QUICK).stream_reply([], "hi")
    started = time.perf_counter()
    first = next(stream)
    assert (time.perf_counter() - started) * 1000 >= 60
    reply = first + "".join(stream)
    assert reply.count(".") >= 2 and reply.endswith("?")


def test_tts_speaks_audio_as_long_as_the_words_faster_than_real_time() -> None:
    tts = SimulatedTTS(QUICK)
    started = time.perf_counter()
    pieces = list(tts.synthesize("That is a good question."))
    elapsed = time.perf_counter() - started
    audio = np.frombuffer(b"".join(pieces), dtype="<i2")
    seconds = len(audio) / tts.sample_rate
    assert 1.2 < seconds < 2.0  # about 65 ms a character
    assert elapsed < seconds  # faster than it plays
    assert all(len(p) % 2 == 0 for p in pieces)
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    assert rms > 1000  # a voice, not silence
