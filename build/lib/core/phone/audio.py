"""Telephone audio (8 kHz µ-law, 20 ms frames) to and from the pipeline's PCM16.

Resampling is band-limited and streaming (``core.audio.resample``: consecutive frames
join without clicks, nothing above the target's Nyquist frequency folds back, 2 ms of
delay). One stream per direction and call; the outbound one is flushed at the end of
every reply.
"""

from __future__ import annotations

import numpy as np

from core.audio import mulaw
from core.audio.pcm import INPUT_SAMPLE_RATE
from core.audio.resample import StreamResampler

PHONE_SAMPLE_RATE = 8_000
PHONE_FRAME_MS = 20
PHONE_FRAME_BYTES = PHONE_SAMPLE_RATE * PHONE_FRAME_MS // 1000  # 160: one byte a sample


class InboundAudio:
    """The caller's µ-law at 8 kHz, as PCM16 at the pipeline's 16 kHz."""

    def __init__(self) -> None:
        self._resampler = StreamResampler(PHONE_SAMPLE_RATE, INPUT_SAMPLE_RATE)

    def convert(self, codes: bytes) -> bytes:
        """One frame (any length) in; the PCM16 bytes ready so far out (2 ms less than
        twice the input at first: the filter's delay)."""
        return self._resampler.process(mulaw.decode(codes)).tobytes()


class OutboundAudio:
    """Reply audio (PCM16 at the voice's rate) as whole 20 ms µ-law frames at 8 kHz.

    ``add`` returns the frames complete so far; ``finish`` flushes the resampler and pads
    the last frame with silence, ready for the next reply.
    """

    def __init__(self) -> None:
        self._rate: int | None = None
        self._resampler: StreamResampler | None = None
        self._pending = b""  # µ-law bytes short of a whole frame

    def add(self, pcm16: bytes, sample_rate: int) -> list[bytes]:
        frames: list[bytes] = []
        if sample_rate != self._rate:
            if self._resampler is not None:
                frames = self.finish()  # the other rate's tail first
            self._rate = sample_rate
            self._resampler = (None if sample_rate == PHONE_SAMPLE_RATE
                               else StreamResampler(sample_rate, PHONE_SAMPLE_RATE))
        return frames + self._frames(self._resample(pcm16, last=False))

    def finish(self) -> list[bytes]:
        """The rest of the reply: the resampler's tail, the last frame padded."""
        tail = self._resample(b"", last=True) if self._resampler is not None else np.zeros(0, "<i2")
        frames = self._frames(tail)
        if self._pending:
            frames.append(self._pending + bytes([mulaw.SILENCE]) * (PHONE_FRAME_BYTES - len(self._pending)))
        self._pending = b""
        self._rate = self._resampler = None
        return frames

    def _resample(self, pcm16: bytes, last: bool) -> np.ndarray:
        samples = np.frombuffer(pcm16, dtype="<i2")
        if self._resampler is None:  # already at 8 kHz
            return samples
        return self._resampler.process(samples, last=last)

    def _frames(self, samples: np.ndarray) -> list[bytes]:
        data = self._pending + mulaw.encode(samples) if samples.size else self._pending
        whole = len(data) - len(data) % PHONE_FRAME_BYTES
        self._pending = data[whole:]
        return [data[i : i + PHONE_FRAME_BYTES] for i in range(0, whole, PHONE_FRAME_BYTES)]
