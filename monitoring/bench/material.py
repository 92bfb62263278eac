"""Speech made for the turn-taking measurements, where the project's recorded questions
have nothing to show: one-word answers, said plainly and said quickly.

Made with espeak-ng (Debian's package; the Makefile installs it for the benches) in five
English voices, a different synthesizer from the assistant's Piper voice. Said quickly
(320 words a minute) the words last 0.15-0.36 s of voice, as people's "yes" and "no" do
(0.2-0.3 s); said plainly (170) 0.33-0.63 s. Every figure made from this is reported per
kind (``plain``, ``quick``), never mixed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitoring.clients.voice_client import read_wav_16k_mono

ANSWER_WORDS = ("Yes", "No", "Okay", "Sure", "Thanks", "Seven")
VOICES = ("en-us", "en-gb", "en-us+f2", "en-gb-scotland", "en-029")
RATES = {"plain": 170, "quick": 320}  # words a minute


class MaterialError(RuntimeError):
    """The speech could not be made (espeak-ng or sox missing)."""


@dataclass(frozen=True)
class Clip:
    kind: str  # plain, quick
    voice: str
    word: str
    pcm: bytes  # 16 kHz mono PCM16


def spoken(text: str, voice: str, rate: int) -> bytes:
    """``text`` said by espeak-ng, as 16 kHz mono PCM16."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        raise MaterialError("espeak-ng and sox are needed (make bench installs Debian's packages)")
    with tempfile.TemporaryDirectory(prefix="voicechat-material-") as folder:
        raw, wav = Path(folder) / "raw.wav", Path(folder) / "16k.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), text], check=True,
                       capture_output=True, timeout=30)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True,
                       capture_output=True, timeout=30)
        return read_wav_16k_mono(wav)


class NeuralVoice:
    """The assistant's own Piper voice, for material spoken by a second synthesizer (kind
    ``neural``): any text at any of Piper's length scales (None: the voice's own), as
    16 kHz mono PCM16."""

    def __init__(self) -> None:
        from core.providers.embedded.piper import PiperTTS

        self._tts = PiperTTS()

    def say(self, text: str, length_scale: float | None = None) -> bytes:
        from core.audio.resample import StreamResampler

        audio = np.frombuffer(b"".join(self._tts.synthesize(text, length_scale)), np.int16)
        resampled = StreamResampler(self._tts.sample_rate, 16000).process(audio, last=True)
        return resampled.astype(np.int16).tobytes()


def one_word_answers() -> list[Clip]:
    """Every word in every voice at both rates (60 clips)."""
    return [Clip(kind, voice, word, spoken(f"{word}.", voice, rate))
            for kind, rate in RATES.items() for voice in VOICES for word in ANSWER_WORDS]
