"""G.711 µ-law, the telephone network's 8-bit audio, to and from PCM16 with numpy.

Python's ``audioop`` did this, but it is deprecated and gone from Python 3.13. Both
directions here are a single table lookup: the 256 µ-law codes decode to fixed PCM16
values, and every one of the 65,536 PCM16 values has its code, computed once at import
(the G.711 rule: bias 132, clip at 32,635, a 3-bit segment and a 4-bit step, the bits
inverted; the same codes as ``audioop.lin2ulaw``). A 20 ms telephone frame (160
samples) costs a few microseconds either way.
"""

from __future__ import annotations

import numpy as np

BIAS = 0x84
CLIP = 32_635
SILENCE = 0xFF  # the code of PCM 0


def _decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype("<i2")


def _encode_table() -> np.ndarray:
    pcm = np.arange(65_536, dtype=np.int32)
    pcm = np.where(pcm >= 32_768, pcm - 65_536, pcm)  # the index is the PCM16 value's bit pattern
    # On 14-bit values, as the reference coder does: the shift floors, so -1 becomes
    # magnitude 1 where +1 becomes 0 (the code of a small negative value differs by one).
    value = pcm >> 2
    negative = value < 0
    magnitude = np.minimum(np.where(negative, -value, value), CLIP >> 2) + (BIAS >> 2)
    # The segment: how many bits above the lowest six the magnitude needs (0 to 7).
    segment = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 5, 0, 7)
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    return (code ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8)


_DECODE = _decode_table()
_ENCODE = _encode_table()


def decode(codes: bytes) -> np.ndarray:
    """µ-law bytes to PCM16 samples (int16, one per byte)."""
    return _DECODE[np.frombuffer(codes, dtype=np.uint8)]


def encode(samples: np.ndarray) -> bytes:
    """PCM16 samples (int16) to µ-law bytes."""
    return _ENCODE[np.asarray(samples, dtype="<i2").view(np.uint16)].tobytes()
