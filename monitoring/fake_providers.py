"""Providers with no model cost, for load testing the server (the soak, the load tester).

They subclass the real interfaces; replies are fixed text and a tone, produced at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from core.providers.base import LLMProvider, Message, STTProvider, TTSProvider
from core.providers.registry import Providers


class FakeSTT(STTProvider):
    name = "fake-stt"

    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        return "what time is it"


class FakeLLM(LLMProvider):
    name = "fake-llm"

    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        yield from ("It is ", "late. ", "Time ", "to ", "rest.")


class FakeTTS(TTSProvider):
    """Half a second of tone per sentence, in 100 ms pieces."""

    name = "fake-tts"
    sample_rate = 16_000

    def __init__(self) -> None:
        tone = np.sin(np.arange(1600) / 6.0) * 6000
        self._piece = tone.astype("<i2").tobytes()

    def synthesize(self, text: str) -> Iterator[bytes]:
        for _ in range(5):
            yield self._piece


def fake_providers() -> Providers:
    return Providers(FakeSTT(), FakeLLM(), FakeTTS())
