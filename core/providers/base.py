"""The three provider interfaces, the typed error every provider raises, and
``Providers``: one of each, as a session uses them.

A provider has one job and never reads the environment: it gets the settings it
needs in its constructor. Blocking calls are fine here; the processor runs them on
its worker pool, never on a socket thread.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)


class ProviderError(Exception):
    """A provider failed. ``retryable`` says whether trying again may help."""

    def __init__(self, provider: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.retryable = retryable


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    text: str


class STTProvider(ABC):
    name: str = "stt"

    @abstractmethod
    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        """Text of the speech in ``pcm16`` (mono); empty when nothing was understood."""

    def warm_up(self) -> None:
        """Run once at start-up so the first real call is not the slow one."""

    def close(self) -> None:
        """Release what the provider holds."""


class LLMProvider(ABC):
    name: str = "llm"

    @abstractmethod
    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        """Pieces of the reply as they are generated. Closing the iterator stops it.

        ``avoid`` is the previous reply: the new one must not repeat it word for word.
        """

    def line_ends_here(self, history: Sequence[Message], words: str) -> float | None:
        """How likely the person's line is over after ``words`` (0-1), judged on the words
        alone, the conversation so far as context; None when this model cannot tell.

        Asked at a pause, before the reply: it must cost a few tens of milliseconds, so
        only a model at hand (in this process) answers it.
        """
        return None

    def prepare(self, history: Sequence[Message]) -> None:
        """The conversation so far is known: get ready to answer after it (optional).

        Called between turns, while the person is talking, so that work done here is
        off the next reply's path (a local model evaluates the prompt's prefix).
        """

    def warm_up(self) -> None:
        """Run once at start-up so the first real call is not the slow one."""

    def close(self) -> None:
        """Release what the provider holds."""


class TTSProvider(ABC):
    name: str = "tts"
    sample_rate: int = 22_050

    @abstractmethod
    def synthesize(self, text: str) -> Iterator[bytes]:
        """PCM16 mono audio at ``sample_rate``, in pieces as they are ready."""

    def warm_up(self) -> None:
        """Run once at start-up so the first real call is not the slow one."""

    def close(self) -> None:
        """Release what the provider holds."""


@dataclass
class Providers:
    stt: STTProvider
    llm: LLMProvider
    tts: TTSProvider

    def __iter__(self) -> Iterator[STTProvider | LLMProvider | TTSProvider]:
        return iter((self.stt, self.llm, self.tts))

    def warm_up(self) -> None:
        for provider in self:
            started = time.perf_counter()
            provider.warm_up()
            log.info("warmed up %s in %.0f ms", provider.name, (time.perf_counter() - started) * 1000)

    def close(self) -> None:
        for provider in self:
            provider.close()

    def names(self) -> dict[str, str]:
        return {"stt": self.stt.name, "llm": self.llm.name, "tts": self.tts.name}
