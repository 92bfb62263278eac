"""Embedded text-to-speech: Piper with the packaged "joe" US English voice."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from core.providers.base import ProviderError, TTSProvider
from core.providers.embedded.model_files import piper_voice_files


class PiperTTS(TTSProvider):
    name = "piper-joe"

    def __init__(self) -> None:
        from piper import PiperVoice

        model, config = piper_voice_files()
        self._voice = PiperVoice.load(model, config_path=config)
        self.sample_rate = int(self._voice.config.sample_rate)
        self._lock = threading.Lock()

    def synthesize(self, text: str, length_scale: float | None = None) -> Iterator[bytes]:
        """``length_scale``: slower over 1, quicker under (the benches' material); None,
        the voice's own."""
        text = text.strip()
        if not text:
            return
        config = None
        if length_scale is not None:
            from piper import SynthesisConfig

            config = SynthesisConfig(length_scale=length_scale)
        try:
            with self._lock:
                chunks = [c.audio_int16_bytes for c in self._voice.synthesize(text, syn_config=config)]
        except (RuntimeError, ValueError) as exc:
            raise ProviderError(self.name, f"synthesis failed: {exc}", retryable=False) from exc
        yield from chunks

    def warm_up(self) -> None:
        for _ in self.synthesize("Ready."):
            pass
