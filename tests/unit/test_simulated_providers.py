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


def test_the_same_speech_gives_the_same_words_and_other_speech_other_words() -> None:
    stt = SimulatedSTT(QUICK)
    rng = np.random.default_rng(1)
    speech = rng.normal(0, 3000, 24_000).astype("<i2").tobytes()  # 1.5 s
    # A speculative transcript (the speech so far) and the final one agree, as Whisper's do.
    assert stt.transcribe(speech[:20_000]) == stt.transcribe(speech)
    others = {stt.transcribe(rng.normal(0, 3000, 24_000).astype("<i2").tobytes()) for _ in range(12)}
    assert len(others) >= 8  # a load test's turns are not taken for repeats


def test_the_reply_follows_the_question_and_never_repeats_the_last_one() -> None:
    llm = SimulatedLLM(QUICK)
    first = "".join(llm.stream_reply([], "Why do people like bees?"))
    assert "bees" in first
    again = "".join(llm.stream_reply([], "Why do people like bees?", avoid=first))
    assert again != first and "bees" in again


def test_the_server_builds_simulated_providers_from_its_settings_without_fallbacks() -> None:
    from core.providers.catalog import ProviderCatalog
    from core.providers.registry import build_providers
    from core.settings import Settings

    settings = Settings(stt_provider="simulated", llm_provider="simulated", tts_provider="simulated",
                        simulated_stt_ms=5, simulated_llm_first_token_ms=7, simulated_jitter=0.0)
    base = build_providers(settings, None)  # type: ignore[arg-type]
    assert base.names() == {"stt": "simulated-stt", "llm": "simulated-llm", "tts": "simulated-tts"}
    assert isinstance(base.llm, SimulatedLLM) and base.llm._t.llm_first_token_ms == 7
    catalog = ProviderCatalog(settings, None, base)
    try:
        # No embedded model is loaded behind them: the load test measures the server alone.
        for role in ("stt", "llm", "tts"):
            assert getattr(catalog.defaults, role)._fallback is None
        assert catalog._local == {}
    finally:
        catalog.close()
        catalog.defaults.stt.close()
        catalog.defaults.llm.close()
        catalog.defaults.tts.close()


def test_simulated_settings_are_checked() -> None:
    import pytest

    from core.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="SIMULATED_JITTER"):
        Settings(simulated_jitter=1.5).validate()
    with pytest.raises(SettingsError, match="SIMULATED_"):
        Settings(simulated_stt_ms=-1).validate()
