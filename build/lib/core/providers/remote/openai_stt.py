"""Speech-to-text on any OpenAI-compatible server (``/v1/audio/transcriptions``)."""

from __future__ import annotations

import io
import wave

from core.audio.pcm import INPUT_SAMPLE_RATE
from core.providers.base import STTProvider
from core.providers.remote.openai_common import call, make_client


def pcm16_to_wav(pcm16: bytes, sample_rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm16)
    return out.getvalue()


class OpenAISTT(STTProvider):
    name = "openai-stt"

    def __init__(self, base_url: str, api_key: str, model: str, timeout_s: float,
                 language: str = "en") -> None:
        self._client = make_client(base_url, api_key, timeout_s)
        self._model = model
        self._language = language  # ISO 639-1

    def transcribe(self, pcm16: bytes, sample_rate: int = INPUT_SAMPLE_RATE) -> str:
        wav = pcm16_to_wav(pcm16, sample_rate)
        result = call(
            self.name,
            lambda: self._client.audio.transcriptions.create(
                model=self._model, file=("speech.wav", wav, "audio/wav"), language=self._language
            ),
        )
        return (result.text or "").strip()

    def close(self) -> None:
        self._client.close()
