"""A voice client on laptop speakers with no echo cancellation: the reply it receives is
played back to back, as the page plays it, and comes back into the microphone through a
room, later and quieter (``EchoPath``), mixed with whatever the person says.

The room: the direct sound plus a 100 ms tail of decaying reflections, through a small
speaker that has little below 200 Hz. Fixed by a seed, so runs compare.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.audio.pcm import INPUT_SAMPLE_RATE
from core.audio.resample import StreamResampler
from core.transport.wire import decode_reply_audio
from monitoring.clients.voice_client import FRAME_BYTES, VoiceClient, read_wav_16k_mono
from monitoring.servers.server_process import ROOT

FRAME_SAMPLES = FRAME_BYTES // 2
MAX_QUEUED_S = 60.0  # audio queued further ahead than this is not played (the page holds less)


def speech_gain(response: np.ndarray) -> float:
    """The factor that makes ``response`` pass speech at 0 dB overall (measured on the
    project's recording of a human voice): a small speaker loses most of a voice's
    low-frequency energy, which a flat normalization would count as still there."""
    voice = np.frombuffer(read_wav_16k_mono(ROOT / "tests" / "fixtures" / "beckett.wav"), dtype="<i2")
    voice = voice.astype(np.float64)[: 16000 * 20]
    through = np.convolve(voice, response)[: voice.size]
    return float(np.sqrt(np.sum(voice**2) / np.sum(through**2)))


@dataclass(frozen=True)
class EchoPath:
    level_db: float  # the echo's energy relative to the reply's as sent (for speech)
    delay_ms: float = 120.0  # the page's output and the microphone's input, together
    seed: int = 17

    def impulse_response(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        tail = np.arange(1, 1600)  # 100 ms at 16 kHz
        response = np.zeros(1600)
        response[0] = 1.0
        response[1:] = rng.normal(0.0, 0.08, tail.size) * np.exp(-tail / 400.0)
        speaker = np.array([1.0, -0.92])  # a small speaker: little below ~200 Hz
        shaped = np.convolve(response, speaker)
        shaped *= speech_gain(shaped)  # the echo of speech is level_db under it, whatever the room
        delay = np.zeros(int(self.delay_ms * INPUT_SAMPLE_RATE / 1000))
        return np.concatenate((delay, shaped)) * 10 ** (self.level_db / 20)


@dataclass
class Played:
    """A piece of reply audio on the speaker's timeline (seconds, monotonic)."""

    turn: int
    start: float
    samples: np.ndarray

    @property
    def end(self) -> float:
        return self.start + self.samples.size / INPUT_SAMPLE_RATE


class EchoingClient(VoiceClient):
    """Every frame sent carries the echo of the reply audio played meanwhile.

    Both the speaker and the microphone run on the wall clock, as a sound card's do: a
    piece of reply plays from its arrival (or the end of what is queued), and a frame
    holds what sounded over the 20 ms it stands for, even when this process sends it a
    little late (a Python client shares the CPU with the server it measures).
    """

    def __init__(self, url: str, path: EchoPath, **kwargs: Any) -> None:
        self._response = path.impulse_response()
        self._tail = np.zeros(self._response.size - 1)
        self._timeline: deque[Played] = deque()
        self._resamplers: dict[int, StreamResampler] = {}
        self._speaker_lock = threading.Lock()
        super().__init__(url, **kwargs)

    # ----- the speaker ------------------------------------------------------------------
    def _on_audio(self, message: bytes, now: float) -> None:
        super()._on_audio(message, now)
        audio = decode_reply_audio(message)
        if self.turns[audio.turn].cleared_at is not None:
            return  # told to stop: not played
        resampler = self._resamplers.setdefault(audio.sample_rate,
                                                StreamResampler(audio.sample_rate, INPUT_SAMPLE_RATE))
        samples = resampler.process(np.frombuffer(audio.pcm16, dtype="<i2")).astype(np.float64)
        with self._speaker_lock:
            start = max(now, self._timeline[-1].end) if self._timeline else now
            if start - now <= MAX_QUEUED_S:
                self._timeline.append(Played(audio.turn, start, samples))

    def _on_event(self, event: dict[str, Any], now: float) -> None:
        super()._on_event(event, now)
        if event["type"] == "clear":
            with self._speaker_lock:
                kept: deque[Played] = deque()
                for piece in self._timeline:
                    if piece.turn != event["turn"] or piece.end <= now:
                        kept.append(piece)
                    elif piece.start < now:  # cut where it was when told
                        kept.append(Played(piece.turn, piece.start,
                                           piece.samples[: int((now - piece.start) * INPUT_SAMPLE_RATE)]))
                self._timeline = kept

    def speaker_idle(self) -> bool:
        with self._speaker_lock:
            return not self._timeline or self._timeline[-1].end <= time.monotonic()

    def _sounded(self, start: float, count: int) -> np.ndarray:
        """What the speaker played over ``count`` samples from ``start``."""
        out = np.zeros(count)
        first = round(start * INPUT_SAMPLE_RATE)
        with self._speaker_lock:
            while self._timeline and self._timeline[0].end < start - 1.0:
                self._timeline.popleft()  # long over
            for piece in self._timeline:
                offset = round(piece.start * INPUT_SAMPLE_RATE) - first
                lo, hi = max(offset, 0), min(offset + piece.samples.size, count)
                if lo < hi:
                    out[lo:hi] = piece.samples[lo - offset : hi - offset]
        return out

    # ----- the microphone ---------------------------------------------------------------
    def microphone(self, frame: bytes, began: float) -> bytes:
        played = self._sounded(began, len(frame) // 2)
        echo = np.convolve(played, self._response)
        echo[: self._tail.size] += self._tail
        self._tail = echo[played.size:].copy()
        mixed = np.frombuffer(frame, dtype="<i2") + echo[: played.size]
        return np.clip(np.rint(mixed), -32768, 32767).astype("<i2").tobytes()
