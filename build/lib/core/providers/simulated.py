"""Simulated remote providers: the timing of cloud STT, LLM and TTS, without a model.

For QA measuring the server's own capacity apart from model cost (issue 6's load
tester). They answer after delays like a cloud service's (with some jitter), stream
reply text at a token rate, and speak real-sounding audio: a voiced, pitch-moving
signal as long as the words would take to say, produced faster than real time. Their
names say "simulated" wherever providers are shown; they are never a default.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from core.providers.base import LLMProvider, Message, Providers, STTProvider, TTSProvider
from core.settings import Settings

TOPICS = ("owls", "the moon", "Tokyo", "bread", "rivers", "chess", "tea", "volcanoes", "jazz", "bees",
          "glaciers", "maps", "tomatoes", "comets", "lighthouses", "violins")
ASKS = ("What can you tell me about {}?", "Why do people like {}?", "How do {} work?",
        "Tell me something new about {}?", "Where would I learn about {}?", "Is it true about {}?")
REPLIES = ("That is a good question about {}. Here is a short answer that sounds like one. "
           "Anything else I can help with?",
           "Ah, {} again. People have wondered about that for ages. Shall I go on?",
           "Here is what I know about {}. It is more interesting than it looks. Want more?")
MS_PER_CHARACTER = 65.0  # speech at about 15 characters a second
VOICE_SECONDS = 30.0  # the longest sentence the simulated voice speaks
HEARD_BYTES = 16_000  # the words are told apart by their first half second of audio


@dataclass(frozen=True)
class SimulatedTimings:
    stt_ms: float = 300.0  # transcript after the request, plus stt_ms_per_audio_s
    stt_ms_per_audio_s: float = 20.0
    llm_first_token_ms: float = 350.0
    llm_tokens_per_s: float = 50.0
    tts_first_audio_ms: float = 200.0
    tts_realtime_factor: float = 5.0  # audio is produced this many times faster than it plays
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]

    @classmethod
    def instant(cls) -> SimulatedTimings:
        """No delays at all: the server's own bookkeeping alone (the soak's leak check)."""
        return cls(stt_ms=0.0, stt_ms_per_audio_s=0.0, llm_first_token_ms=0.0, llm_tokens_per_s=1e9,
                   tts_first_audio_ms=0.0, tts_realtime_factor=1e9, jitter=0.0)

    @classmethod
    def from_settings(cls, s: Settings) -> SimulatedTimings:
        return cls(stt_ms=s.simulated_stt_ms, llm_first_token_ms=s.simulated_llm_first_token_ms,
                   llm_tokens_per_s=s.simulated_llm_tokens_per_s,
                   tts_first_audio_ms=s.simulated_tts_first_audio_ms, jitter=s.simulated_jitter)


def _pick(options: tuple[str, ...], text: str | bytes, salt: str = "") -> str:
    """A stable choice for the same input (so a speculative and a final transcript agree)."""
    data = text.encode() if isinstance(text, str) else text
    digest = hashlib.blake2b(data + salt.encode(), digest_size=8).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


def _wait(ms: float, jitter: float, rng: random.Random) -> None:
    """The simulated service's latency (a pause on purpose, not a synchronization)."""
    threading.Event().wait(max(0.0, ms * rng.uniform(1 - jitter, 1 + jitter)) / 1000.0)


class SimulatedSTT(STTProvider):
    name = "simulated-stt"

    def __init__(self, timings: SimulatedTimings = SimulatedTimings(), seed: int = 0) -> None:
        self._t = timings
        self._rng = random.Random(seed)

    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        seconds = len(pcm16) / 2 / sample_rate
        _wait(self._t.stt_ms + self._t.stt_ms_per_audio_s * seconds, self._t.jitter, self._rng)
        # Different speech gives different words, like a real recognizer (the repeat filter
        # would otherwise leave a load test's turns unanswered).
        heard = pcm16[:HEARD_BYTES]
        return _pick(ASKS, heard, "ask").format(_pick(TOPICS, heard, "topic"))


class SimulatedLLM(LLMProvider):
    name = "simulated-llm"

    def __init__(self, timings: SimulatedTimings = SimulatedTimings(), seed: int = 0) -> None:
        self._t = timings
        self._rng = random.Random(seed)

    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        named = [t for t in TOPICS if t.lower() in user_text.lower()]
        topic = named[0] if named else _pick(TOPICS, user_text)
        choice = REPLIES.index(_pick(REPLIES, user_text))
        reply = REPLIES[choice].format(topic)
        if avoid is not None and reply == avoid:  # never the same reply twice in a row
            reply = REPLIES[(choice + 1) % len(REPLIES)].format(topic)
        _wait(self._t.llm_first_token_ms, self._t.jitter, self._rng)
        for index, word in enumerate(reply.split(" ")):
            if index:
                _wait(1000.0 / self._t.llm_tokens_per_s, 0.0, self._rng)
            yield word if index == 0 else " " + word


class SimulatedTTS(TTSProvider):
    name = "simulated-tts"
    sample_rate = 22_050

    def __init__(self, timings: SimulatedTimings = SimulatedTimings(), seed: int = 0) -> None:
        self._t = timings
        self._rng = random.Random(seed)
        # Made once: a cloud voice's audio costs the server nothing to make, so neither
        # may this one's, or a load test would measure numpy instead of the server.
        self._voice = voice_like(VOICE_SECONDS, self.sample_rate, 0.0)

    def synthesize(self, text: str) -> Iterator[bytes]:
        size = 2 * int(len(text) * MS_PER_CHARACTER / 1000.0 * self.sample_rate)
        size = max(2, min(size, len(self._voice)))
        offset = 2 * self._rng.randrange(0, (len(self._voice) - size) // 2 + 1)
        pcm = self._voice[offset : offset + size]
        _wait(self._t.tts_first_audio_ms, self._t.jitter, self._rng)
        piece = self.sample_rate // 5 * 2  # 200 ms of PCM16
        for start in range(0, len(pcm), piece):
            if start:
                _wait(200.0 / self._t.tts_realtime_factor, 0.0, self._rng)
            yield pcm[start : start + piece]


def voice_like(seconds: float, rate: int, phase: float) -> bytes:
    """A voiced sound with a moving pitch and syllable-like loudness, PCM16 mono."""
    n = max(1, int(seconds * rate))
    t = np.arange(n) / rate
    pitch = 140.0 + 25.0 * np.sin(2 * np.pi * 0.7 * t + phase * 6.28)
    phase_track = 2 * np.pi * np.cumsum(pitch) / rate
    tone = sum(np.sin(k * phase_track) / k for k in (1, 2, 3, 4))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t) ** 2
    return (tone * syllables * 5000).astype("<i2").tobytes()


def simulated_providers(timings: SimulatedTimings = SimulatedTimings()) -> Providers:
    """All three roles simulated with the same timings."""
    return Providers(SimulatedSTT(timings), SimulatedLLM(timings), SimulatedTTS(timings))
