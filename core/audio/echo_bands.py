"""Band energies of 10 ms blocks of 16 kHz audio: what the echo gate compares between the
reply the server sent and the microphone.

Energies, not waveforms, on purpose: a loudspeaker, a room and a microphone change the
shape of the reply's waveform (and a phone line its phase) but keep which bands are loud
when, so a comparison of band energies holds where a sample-by-sample subtraction would
need an adaptive filter to converge first.
"""

from __future__ import annotations

import itertools

import numpy as np

SAMPLE_RATE = 16_000
BLOCK = 160  # samples: 10 ms
WINDOW = 2 * BLOCK  # each block is analysed with the one before it (Hann, half overlap)
# Band edges in Hz: speech's range, finer where its formants are; the top bands are empty
# on a phone line (8 kHz) on both sides alike.
EDGES_HZ = (150, 300, 500, 750, 1000, 1400, 1900, 2500, 3200, 4000, 5200, 7000)
BANDS = len(EDGES_HZ) - 1


def _band_matrix() -> np.ndarray:
    frequencies = np.fft.rfftfreq(WINDOW, 1.0 / SAMPLE_RATE)
    matrix = np.zeros((len(frequencies), BANDS), dtype=np.float64)
    for band, (low, high) in enumerate(itertools.pairwise(EDGES_HZ)):
        matrix[(frequencies >= low) & (frequencies < high), band] = 1.0
    return matrix


_BAND_MATRIX = _band_matrix()
_WINDOW = np.hanning(WINDOW)
_SCALE = 1.0 / float(np.sum(_WINDOW**2))  # power per sample, in PCM16 units squared


class BandAnalyzer:
    """Audio in, one row of band energies per whole 10 ms block; keeps what is left over
    and the block before, so chunks of any size give the same rows."""

    def __init__(self) -> None:
        self._previous = np.zeros(BLOCK, dtype=np.float64)
        self._rest = np.zeros(0, dtype=np.float64)

    def blocks(self, samples: np.ndarray) -> np.ndarray:
        """Rows (one per block, BANDS wide) for the whole blocks now complete."""
        data = np.concatenate((self._rest, np.asarray(samples, dtype=np.float64)))
        count = data.size // BLOCK
        self._rest = data[count * BLOCK:]
        if count == 0:
            return np.zeros((0, BANDS))
        whole = np.concatenate((self._previous, data[: count * BLOCK]))
        self._previous = whole[-BLOCK:].copy()
        frames = np.lib.stride_tricks.sliding_window_view(whole, WINDOW)[::BLOCK][:count]
        spectra = np.fft.rfft(frames * _WINDOW, axis=1)
        return (np.abs(spectra) ** 2 * _SCALE) @ _BAND_MATRIX

    def reset(self) -> None:
        self._previous[:] = 0.0
        self._rest = np.zeros(0, dtype=np.float64)
