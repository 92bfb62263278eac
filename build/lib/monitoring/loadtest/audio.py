"""Audio for the load tester, encoded once before the run: each question cut into 20 ms
PCM16 frames with its first and last voiced frame found, and a pool of room-noise frames.
Nothing is computed per frame while the sessions run."""

from __future__ import annotations

import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitoring.clients.voice_client import FRAME_MS, frames_of, is_voiced, quiet_frame, read_wav_16k_mono
from monitoring.loadtest.config import ConfigError

QUIET_POOL = 64  # distinct room-noise frames (1.28 s), reused in turn


class AudioError(ConfigError):
    """A WAV file the tester cannot speak."""


@dataclass(frozen=True)
class Clip:
    name: str
    frames: tuple[bytes, ...]
    first_voiced: int  # index of the first frame with RMS >= voice_client.VOICED_RMS
    last_voiced: int

    @property
    def seconds(self) -> float:
        return len(self.frames) * FRAME_MS / 1000.0


def load_clip(path: Path) -> Clip:
    try:
        pcm = read_wav_16k_mono(path)
    except FileNotFoundError as exc:
        raise AudioError(f"{path}: no such file") from exc
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"{path}: not a readable WAV file ({exc})") from exc
    except ValueError as exc:  # read_wav_16k_mono's "need 16 kHz mono PCM16"
        raise AudioError(f"{exc}; convert it with e.g. `sox IN -r 16000 -c 1 -b 16 OUT.wav`") from exc
    except OSError as exc:
        raise AudioError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    frames = tuple(frames_of(pcm))
    voiced = [i for i, frame in enumerate(frames) if is_voiced(frame)]
    if not voiced:
        raise AudioError(f"{path}: no speech in it (every 20 ms frame is quieter than RMS 300)")
    return Clip(path.stem, frames, voiced[0], voiced[-1])


def load_clips(paths: Sequence[Path]) -> list[Clip]:
    if not paths:
        raise AudioError("no audio files given")
    return [load_clip(Path(p)) for p in paths]


class QuietFrames:
    """Room noise at about -60 dBFS (voice_client.quiet_frame), pre-made from the seed."""

    def __init__(self, seed: int, count: int = QUIET_POOL) -> None:
        rng = np.random.default_rng(seed)
        self._frames = tuple(quiet_frame(rng) for _ in range(count))

    def frame(self, n: int) -> bytes:
        return self._frames[n % len(self._frames)]
