"""Text-to-speech on any OpenAI-compatible server, streamed as raw 24 kHz PCM16."""

from __future__ import annotations

from collections.abc import Iterator

from core.providers.base import TTSProvider
from core.providers.remote.openai_common import make_client, mapped_errors

OPENAI_PCM_RATE = 24_000  # the rate of response_format="pcm"


class OpenAITTS(TTSProvider):
    name = "openai-tts"
    sample_rate = OPENAI_PCM_RATE

    def __init__(self, base_url: str, api_key: str, model: str, voice: str,
                 timeout_s: float) -> None:
        self._client = make_client(base_url, api_key, timeout_s)
        self._model = model
        self._voice = voice

    def synthesize(self, text: str) -> Iterator[bytes]:
        if not text.strip():
            return
        carry = b""
        speech = self._client.audio.speech.with_streaming_response
        with mapped_errors(self.name), speech.create(
            model=self._model, voice=self._voice, input=text, response_format="pcm"
        ) as response:
            for piece in response.iter_bytes(chunk_size=9600):
                data = carry + piece
                cut = len(data) - len(data) % 2
                carry = data[cut:]
                if cut:
                    yield data[:cut]

    def close(self) -> None:
        self._client.close()
