"""Provider wrappers that survive a provider failing (``Guard``: deadlines, retries,
circuit, fallback, probe), one per role, with the checks of each role's output.

The wrappers implement the provider interfaces, so the rest of the server uses them as
it uses any provider. Sessions poll ``status()`` and compare ``version`` with the last
one they saw to tell the person when a provider was switched or restored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from core.audio.resample import StreamResampler
from core.providers.base import LLMProvider, Message, ProviderError, STTProvider, TTSProvider
from core.providers.guards.guard import Guard, RecoveryPolicy, Role, Route

log = logging.getLogger(__name__)

_PROBE_SILENCE = bytes(16_000)  # 0.5 s of PCM16 at 16 kHz


def _unusable(name: str) -> ProviderError:
    return ProviderError(name, "returned unusable output", retryable=True)


# Control characters in a transcript: whitespace ones become spaces, the others go.
_TRANSCRIPT_CONTROLS = {c: (" " if chr(c) in "\t\n\r\x0b\x0c" else None)
                       for c in (*range(0x20), *range(0x7F, 0xA0))}


def _check_transcript(name: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise _unusable(name)
    return raw.translate(_TRANSCRIPT_CONTROLS)


def _check_text_piece(name: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise _unusable(name)
    return raw


def _check_audio_piece(name: str, raw: object) -> bytes:
    if not isinstance(raw, bytes | bytearray) or not raw or len(raw) % 2:
        raise _unusable(name)
    return bytes(raw)


class GuardedSTT(Guard[STTProvider], STTProvider):
    role: Role = "stt"

    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        return self._call(lambda p: p.transcribe(pcm16, sample_rate), _check_transcript)

    def _probe_once(self, route: Route) -> None:
        self._call_once(route, lambda p: p.transcribe(_PROBE_SILENCE, 16_000), _check_transcript)


class GuardedLLM(Guard[LLMProvider], LLMProvider):
    role: Role = "llm"

    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        return self._stream(lambda p: p.stream_reply(history, user_text, avoid=avoid), _check_text_piece)

    def prepare(self, history: Sequence[Message]) -> None:
        """Best effort on the active provider: a failure here is not the provider's fault
        as far as the circuit goes, and the next reply does not need it."""
        route = self._active_route()
        if route is None:
            return
        try:
            route.runner.call(lambda: route.provider.prepare(history))
        except Exception as exc:  # noqa: BLE001 - it only saves time; the reply still works
            log.debug("llm: %s could not prepare the next prompt: %s", route.provider.name,
                      type(exc).__name__)

    def line_ends_here(self, history: Sequence[Message], words: str) -> float | None:
        """The active provider's view, if it has one; a failure means no view (the pause's
        other evidence decides) and, like ``prepare``, does not count against it."""
        route = self._active_route()
        if route is None:
            return None
        try:
            return route.provider.line_ends_here(history, words)
        except ProviderError as exc:
            log.debug("llm: %s could not weigh the words: %s", route.provider.name, exc)
            return None

    def _probe_once(self, route: Route) -> None:
        self._probe_first_piece(route, lambda p: p.stream_reply([], "hi"), _check_text_piece)


class GuardedTTS(Guard[TTSProvider], TTSProvider):
    """``sample_rate`` is the primary's. The interface has one rate per provider, so a
    fallback at another rate cannot label its audio: its audio is resampled instead."""

    role: Role = "tts"

    def __init__(self, primary: TTSProvider, policy: RecoveryPolicy, fallback: TTSProvider | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(primary, policy, fallback, clock)
        self.sample_rate = primary.sample_rate

    def synthesize(self, text: str) -> Iterator[bytes]:
        return self._stream(lambda p: _at_rate(p.synthesize(text), p.sample_rate, self.sample_rate),
                            _check_audio_piece)

    def _probe_once(self, route: Route) -> None:
        self._probe_first_piece(route, lambda p: p.synthesize("ok"), _check_audio_piece)


def _at_rate(pieces: Iterable[object], source_rate: int, rate: int) -> Iterator[object]:
    """A fallback voice's audio at the primary's rate, through one streaming resampler for
    the whole sentence (band-limited, and continuous across its pieces' edges); the
    filter's tail comes after the last piece. Pieces that are not PCM16 are passed on for
    the output check to reject."""
    try:
        if source_rate == rate:
            yield from pieces
            return
        resampler = StreamResampler(source_rate, rate)
        for pcm in pieces:
            if isinstance(pcm, bytes) and pcm and len(pcm) % 2 == 0:
                resampled = resampler.process(np.frombuffer(pcm, dtype="<i2"))
                if resampled.size:  # (a first piece shorter than the filter's delay: later)
                    yield resampled.astype("<i2").tobytes()
            else:
                yield pcm
        tail = resampler.process(np.zeros(0, dtype="<i2"), last=True)
        if tail.size:
            yield tail.astype("<i2").tobytes()
    finally:
        close = getattr(pieces, "close", None)
        if callable(close):
            close()
