"""A streaming polyphase resampler with a few milliseconds of delay: the app's one
resampler, for every change of rate (a phone call's 8 kHz both ways, a fallback voice
at another rate than the one the session announced, a recognizer given other audio).

Why not a library: libsoxr (the ``soxr`` package) is the obvious choice, but measured
in streaming mode on 20 ms frames it holds back 30-90 ms (8 → 16 kHz at its "HQ":
1,420 samples of delay, output released in bursts of ~100 ms every fifth frame); every
millisecond of that adds to the time to hear the caller stop and to the first audio of a
reply. Its only low-delay mode is cubic interpolation, which does not band-limit, and a
22 kHz voice squeezed into 8 kHz that way folds its upper harmonics back as hiss.

Here: a windowed-sinc (Kaiser) low-pass, cut a little below the lower rate's Nyquist
frequency, sampled at every fractional position the ratio ``out/in`` needs (one row per
phase), applied as one vectorized gather per chunk. The delay is half the filter:
``taps_per_side`` input samples (2 ms from 8 kHz, under 2 ms from 22 kHz), and every
chunk's output comes out with it, so 20 ms in gives 20 ms out.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PASSBAND = 0.90  # cut-off as a fraction of the lower rate's Nyquist frequency
KAISER_BETA = 8.0  # about 80 dB of stop-band attenuation with a long enough filter
BASE_TAPS_PER_SIDE = 16  # at the output rate; scaled up when the input rate is higher
MAX_PATTERNS = 64  # cached output patterns (one per chunk size and starting phase)


class StreamResampler:
    """PCM16 in at ``in_rate``, PCM16 out at ``out_rate``, chunk by chunk, with state."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        g = math.gcd(in_rate, out_rate)
        self._up, self._down = out_rate // g, in_rate // g  # output n sits at input n*down/up
        self.in_rate, self.out_rate = in_rate, out_rate
        # Taps per side, in input samples: a filter as long in time as BASE_TAPS_PER_SIDE
        # samples of the lower rate, so downsampling from a high rate still cuts sharply.
        self.taps_per_side = math.ceil(BASE_TAPS_PER_SIDE * max(1.0, in_rate / out_rate))
        self._bank = self._filter_bank()
        self._patterns: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self.reset()

    def _filter_bank(self) -> np.ndarray:
        """Row ``p``: the filter for an output sample ``p/up`` input samples past an input
        sample, over the input samples ``-taps_per_side+1 .. taps_per_side`` around it."""
        half = self.taps_per_side
        cutoff = PASSBAND * min(self.in_rate, self.out_rate) / 2 / self.in_rate  # cycles per input sample
        offsets = np.arange(-half + 1, half + 1, dtype=np.float64)
        fractions = np.arange(self._up, dtype=np.float64)[:, None] / self._up
        distance = offsets[None, :] - fractions  # input samples from the output's position
        kernel = 2 * cutoff * np.sinc(2 * cutoff * distance)
        window = np.kaiser(2 * half + 1, KAISER_BETA)  # sampled at fractional positions below
        positions = np.clip(distance / half, -1.0, 1.0)
        kernel *= np.interp(positions, np.linspace(-1.0, 1.0, window.size), window)
        return (kernel / kernel.sum(axis=1, keepdims=True)).astype(np.float32)  # unity gain at DC

    def reset(self) -> None:
        # Input kept for the filter, with the absolute index of its first sample: it starts
        # with taps_per_side samples of silence before the stream's first sample.
        self._buffer = np.zeros(self.taps_per_side, dtype=np.float32)
        self._buffer_start = -self.taps_per_side
        self._received = 0  # input samples so far
        self._next_out = 0  # index of the next output sample

    def process(self, pcm16: np.ndarray, last: bool = False) -> np.ndarray:
        """Resample the next chunk; ``last`` flushes the filter's tail (then ``reset``)."""
        chunk = np.asarray(pcm16, dtype=np.float32)
        self._received += chunk.size
        pad = np.zeros(self.taps_per_side, dtype=np.float32) if last else np.zeros(0, dtype=np.float32)
        self._buffer = np.concatenate((self._buffer, chunk, pad))
        end = self._buffer_start + self._buffer.size  # one past the last input sample held
        if last:
            # Every output sample whose position lies within the input received.
            count = -(-self._received * self._up // self._down) - self._next_out
        else:
            # Those whose filter window is complete: position + taps_per_side < end.
            limit = end - self.taps_per_side  # positions must be below this
            count = max(0, -(-limit * self._up // self._down) - self._next_out)
        out = self._compute(max(count, 0))
        if last:
            self.reset()
        return out

    def _compute(self, count: int) -> np.ndarray:
        if count == 0:
            self._trim()
            return np.zeros(0, dtype=np.int16)
        phase0 = self._next_out % self._up
        first = (self._next_out - phase0) // self._up * self._down  # input index of the period's start
        relative, rows = self._pattern(phase0, count)
        windows = sliding_window_view(self._buffer, 2 * self.taps_per_side)
        starts = relative + (first - self.taps_per_side + 1 - self._buffer_start)
        values = np.einsum("ij,ij->i", windows[starts], rows)
        self._next_out += count
        self._trim()
        return np.clip(np.rint(values), -32768, 32767).astype(np.int16)

    def _pattern(self, phase0: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """For ``count`` outputs from phase ``phase0``: each one's input sample (relative to
        the period's start) and filter row. Chunks of one size repeat the same pattern."""
        key = (phase0, count)
        cached = self._patterns.get(key)
        if cached is None:
            k = np.arange(phase0, phase0 + count, dtype=np.int64)
            relative, phase = np.divmod(k * self._down, self._up)
            cached = (relative, np.ascontiguousarray(self._bank[phase]))
            if len(self._patterns) >= MAX_PATTERNS:
                self._patterns.clear()
            self._patterns[key] = cached
        return cached

    def _trim(self) -> None:
        """Drop input no output sample will need again."""
        first_needed = (self._next_out * self._down) // self._up - self.taps_per_side + 1
        drop = min(max(0, first_needed - self._buffer_start), self._buffer.size)
        if drop:
            self._buffer = self._buffer[drop:]
            self._buffer_start += drop
