"""The band energies of 10 ms blocks, kept by their place on the microphone's timeline."""

from __future__ import annotations

import numpy as np

from core.audio.echo_bands import BANDS


class BlockRing:
    """Band rows by absolute block index, the last ``capacity`` of them; unwritten or
    overwritten indices read as silence."""

    def __init__(self, capacity: int) -> None:
        self._rows = np.zeros((capacity, BANDS))
        self._index = np.full(capacity, -1, dtype=np.int64)

    def write(self, first: int, rows: np.ndarray) -> None:
        positions = np.arange(first, first + rows.shape[0])
        slots = positions % self._index.size
        self._rows[slots] = rows
        self._index[slots] = positions

    def read(self, first: int, count: int) -> np.ndarray:
        positions = np.arange(first, first + count)
        slots = positions % self._index.size
        rows = self._rows[slots].copy()
        rows[self._index[slots] != positions] = 0.0
        return rows

    def written(self, first: int, count: int) -> np.ndarray:
        positions = np.arange(first, first + count)
        return self._index[positions % self._index.size] == positions

    def forget_from(self, first: int, until: int) -> None:
        if until > first:
            positions = np.arange(first, until)
            slots = positions % self._index.size
            self._index[slots[self._index[slots] == positions]] = -1

    def clear(self) -> None:
        self._index[:] = -1
