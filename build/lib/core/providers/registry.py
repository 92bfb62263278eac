"""Builds the configured providers once per process."""

from __future__ import annotations

from core.providers.base import LLMProvider, Providers, STTProvider, TTSProvider
from core.providers.remote.async_runner import AsyncRunner
from core.settings import Settings


def build_stt(s: Settings) -> STTProvider:
    if s.stt_provider == "simulated":
        from core.providers.simulated import SimulatedSTT, SimulatedTimings

        return SimulatedSTT(SimulatedTimings.from_settings(s))
    if s.stt_provider == "openai":
        from core.providers.remote.openai_stt import OpenAISTT

        return OpenAISTT(s.openai_base_url, s.openai_api_key, s.openai_stt_model, s.provider_timeout_s)
    from core.providers.embedded.whisper import WhisperSTT

    return WhisperSTT(cpu_threads=s.cpu_threads, window_s=s.stt_window_s)


def build_llm(s: Settings) -> LLMProvider:
    if s.llm_provider == "simulated":
        from core.providers.simulated import SimulatedLLM, SimulatedTimings

        return SimulatedLLM(SimulatedTimings.from_settings(s))
    if s.llm_provider == "openai":
        from core.providers.remote.openai_llm import OpenAILLM

        return OpenAILLM(s.openai_base_url, s.openai_api_key, s.openai_llm_model, s.provider_timeout_s)
    from core.providers.embedded.llama import LlamaLLM

    return LlamaLLM(s.model_path, n_ctx=s.llm_context_tokens, n_threads=s.cpu_threads,
                    max_tokens=s.llm_max_tokens)


def build_tts(s: Settings, runner: AsyncRunner) -> TTSProvider:
    if s.tts_provider == "simulated":
        from core.providers.simulated import SimulatedTimings, SimulatedTTS

        return SimulatedTTS(SimulatedTimings.from_settings(s))
    if s.tts_provider == "openai":
        from core.providers.remote.openai_tts import OpenAITTS

        return OpenAITTS(s.openai_base_url, s.openai_api_key, s.openai_tts_model,
                         s.openai_tts_voice, s.provider_timeout_s)
    if s.tts_provider == "edge":
        from core.providers.remote.edge import EdgeTTS

        return EdgeTTS(s.edge_tts_voice, runner, s.provider_timeout_s)
    return build_local_tts()


def build_local_tts() -> TTSProvider:
    from core.providers.embedded.piper import PiperTTS

    return PiperTTS()


def build_providers(settings: Settings, runner: AsyncRunner) -> Providers:
    return Providers(build_stt(settings), build_llm(settings), build_tts(settings, runner))
