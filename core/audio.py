"""PCM helpers shared by the pipeline: format constants and conversions."""

from __future__ import annotations

import numpy as np

INPUT_SAMPLE_RATE = 16_000
SAMPLE_BYTES = 2  # PCM16


def ms_to_bytes(ms: int, sample_rate: int = INPUT_SAMPLE_RATE) -> int:
    return sample_rate * ms // 1000 * SAMPLE_BYTES


def pcm16_to_float32(pcm: bytes) -> np.ndarray:
    """PCM16 little-endian bytes to float32 samples in [-1, 1)."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def resample_pcm16(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Linear-interpolation resampler; good enough for speech between common rates."""
    if src_rate == dst_rate or not pcm:
        return pcm
    src = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    n_out = round(len(src) * dst_rate / src_rate)
    if n_out == 0:
        return b""
    positions = np.arange(n_out, dtype=np.float64) * (src_rate / dst_rate)
    out = np.interp(positions, np.arange(len(src)), src)
    return np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes()


def split_chunks(pcm: bytes, chunk_bytes: int) -> list[bytes]:
    """Split audio into chunks of at most ``chunk_bytes`` (kept sample-aligned)."""
    chunk_bytes -= chunk_bytes % SAMPLE_BYTES
    return [pcm[i : i + chunk_bytes] for i in range(0, len(pcm), chunk_bytes)]
