"""Synthetic test audio: speech-like harmonic bursts between silences."""

from __future__ import annotations

import numpy as np

SR = 16_000


def voiced_burst(ms: int, f0: float = 140.0) -> np.ndarray:
    """A vowel-like sound: 29 harmonics with vibrato and a syllable-rate envelope."""
    n = SR * ms // 1000
    t = np.arange(n) / SR
    freq = f0 * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(freq) / SR
    wave = sum(np.sin(k * phase) / k for k in range(1, 30))
    envelope = 0.6 + 0.4 * np.abs(np.sin(2 * np.pi * 4 * t))
    return (wave * envelope / np.max(np.abs(wave)) * 0.5).astype(np.float32)


def silence(ms: int) -> np.ndarray:
    return np.zeros(SR * ms // 1000, dtype=np.float32)


def to_pcm16(signal: np.ndarray, noise_std: float = 0.001, seed: int = 0) -> bytes:
    noisy = signal + np.random.default_rng(seed).normal(0, noise_std, len(signal)).astype(np.float32)
    return (np.clip(noisy, -1, 1) * 32767).astype("<i2").tobytes()


def timeline(parts: list[tuple[str, int]]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Build a signal from ("speech"|"silence", ms) parts; returns it and the speech spans."""
    pieces, spans, at = [], [], 0
    for kind, ms in parts:
        pieces.append(voiced_burst(ms) if kind == "speech" else silence(ms))
        if kind == "speech":
            spans.append((at, at + ms))
        at += ms
    return np.concatenate(pieces), spans
