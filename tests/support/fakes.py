"""Fake providers for unit tests: they subclass the real interfaces, cost no model time."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np

from core.providers.base import LLMProvider, Message, ProviderError, STTProvider, TTSProvider


class FakeSTT(STTProvider):
    name = "fake-stt"

    def __init__(self, text: str = "what is the capital of france", fail: bool = False) -> None:
        self.text = text
        self.fail = fail
        self.calls = 0
        self._called = threading.Condition()

    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        with self._called:
            self.calls += 1
            self._called.notify_all()
        if self.fail:
            raise ProviderError(self.name, "injected failure", retryable=True)
        return self.text

    def wait_calls(self, n: int, timeout: float = 5.0) -> None:
        with self._called:
            if not self._called.wait_for(lambda: self.calls >= n, timeout):
                raise AssertionError(f"{self.calls} transcriptions, expected {n}")


class FakeLLM(LLMProvider):
    name = "fake-llm"

    def __init__(self, reply: str = "Paris is the capital. It is lovely.") -> None:
        self.reply = reply
        self.histories: list[list[Message]] = []
        self.texts: list[str] = []
        self.called = threading.Event()

    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        self.histories.append(list(history))
        self.texts.append(user_text)
        self.called.set()
        for word in self.reply.split(" "):
            yield word + " "


class FakeTTS(TTSProvider):
    """Yields ``chunks`` pieces of 100 ms tone per sentence; chunks after the first
    ``free_chunks`` of the reply wait for ``gate`` (so a test can act mid-reply)."""

    name = "fake-tts"
    sample_rate = 16_000

    def __init__(self, chunks: int = 3, gate: threading.Event | None = None,
                 free_chunks: int = 0) -> None:
        self.chunks = chunks
        self.gate = gate
        self.free_chunks = free_chunks
        self.produced = 0
        self.sentences: list[str] = []

    def synthesize(self, text: str) -> Iterator[bytes]:
        self.sentences.append(text)
        tone = (np.sin(np.arange(1600) / 8.0) * 8000).astype("<i2").tobytes()
        for _ in range(self.chunks):
            if self.gate is not None and self.produced >= self.free_chunks:
                self.gate.wait(5)
            self.produced += 1
            yield tone
