"""Text-to-speech through edge-tts (needs a network); MP3 decoded to 24 kHz PCM16."""

from __future__ import annotations

import io
from collections.abc import Iterator

from core.providers.base import ProviderError, TTSProvider
from core.providers.remote.async_runner import AsyncRunner

EDGE_OUTPUT_RATE = 24_000


def decode_mp3(mp3: bytes, sample_rate: int = EDGE_OUTPUT_RATE) -> bytes:
    import av

    out = bytearray()
    with av.open(io.BytesIO(mp3), mode="r", format="mp3") as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
        for frame in container.decode(audio=0):
            for converted in resampler.resample(frame):
                out += converted.to_ndarray().tobytes()
        for converted in resampler.resample(None):
            out += converted.to_ndarray().tobytes()
    return bytes(out)


class EdgeTTS(TTSProvider):
    name = "edge-tts"
    sample_rate = EDGE_OUTPUT_RATE

    def __init__(self, voice: str, runner: AsyncRunner, timeout_s: float) -> None:
        self._voice = voice
        self._runner = runner
        self._timeout_s = timeout_s

    async def _fetch_mp3(self, text: str) -> bytes:
        import edge_tts

        mp3 = bytearray()
        async for message in edge_tts.Communicate(text, self._voice).stream():
            if message.get("type") == "audio":
                mp3 += message["data"]
        return bytes(mp3)

    def synthesize(self, text: str) -> Iterator[bytes]:
        if not text.strip():
            return
        try:
            mp3 = self._runner.run(self._fetch_mp3(text), self._timeout_s)
        except TimeoutError as exc:
            raise ProviderError(self.name, "timed out", retryable=True) from exc
        except OSError as exc:
            raise ProviderError(self.name, f"network error: {type(exc).__name__}", retryable=True) from exc
        except Exception as exc:  # edge-tts raises its own untyped errors
            raise ProviderError(self.name, f"failed: {type(exc).__name__}", retryable=False) from exc
        if not mp3:
            raise ProviderError(self.name, "no audio received", retryable=True)
        yield decode_mp3(mp3)
