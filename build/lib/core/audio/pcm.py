"""PCM helpers shared by the pipeline: format constants and conversions."""

from __future__ import annotations

import numpy as np

from core.errors import ClientError

INPUT_SAMPLE_RATE = 16_000
SAMPLE_BYTES = 2  # PCM16


def ms_to_bytes(ms: int, sample_rate: int = INPUT_SAMPLE_RATE) -> int:
    return sample_rate * ms // 1000 * SAMPLE_BYTES


def pcm16_to_float32(pcm: bytes) -> np.ndarray:
    """PCM16 little-endian bytes to float32 samples in [-1, 1)."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def split_chunks(pcm: bytes, chunk_bytes: int) -> list[bytes]:
    """Split audio into chunks of at most ``chunk_bytes`` (kept sample-aligned)."""
    chunk_bytes -= chunk_bytes % SAMPLE_BYTES
    return [pcm[i : i + chunk_bytes] for i in range(0, len(pcm), chunk_bytes)]


def check_pcm16(frame: bytes, max_bytes: int) -> None:
    """A microphone frame must be whole PCM16 samples, and not too many of them."""
    if len(frame) == 0:
        raise ClientError("bad_audio", "empty audio frame")
    if len(frame) % SAMPLE_BYTES:
        raise ClientError("bad_audio", "audio frame has an odd number of bytes (PCM16 expected)")
    if len(frame) > max_bytes:
        raise ClientError("too_large", f"audio frame larger than {max_bytes} bytes")
