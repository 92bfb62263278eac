"""The stand-ins' spoken answer: a voiced, syllable-paced signal (not a word in it) at
24 kHz, and the transcript said with it."""

from __future__ import annotations

import numpy as np

RATE = 24_000
CHUNK_MS = 100  # audio per delta


def answer_text(turn: int, heard: str) -> str:
    about = f" about {heard.strip()[:40]}" if heard.strip() else ""
    return f"This is answer {turn} from the stand-in{about}. It is a short one."


def answer_audio(seconds: float = 2.0) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    pitch = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6))
    syllables = 0.5 - 0.5 * np.cos(2 * np.pi * 4 * t)  # four a second
    return (voiced * syllables * 5000).astype(np.int16).tobytes()


def chunks(pcm: bytes) -> list[bytes]:
    size = RATE * 2 * CHUNK_MS // 1000
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]
