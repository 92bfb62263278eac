"""Embedded speech-to-text: Whisper tiny.en through faster-whisper (CTranslate2, int8)."""

from __future__ import annotations

import threading

import numpy as np

from core.audio import INPUT_SAMPLE_RATE, pcm16_to_float32, resample_pcm16
from core.providers.base import ProviderError, STTProvider
from core.providers.model_files import whisper_model_dir


class WhisperSTT(STTProvider):
    name = "whisper-tiny.en"

    def __init__(self, cpu_threads: int = 2) -> None:
        from faster_whisper import WhisperModel

        self._model = WhisperModel(
            str(whisper_model_dir()),
            device="cpu",
            compute_type="int8",
            cpu_threads=cpu_threads,
        )
        # One decode at a time: a second one would only halve the speed of both.
        self._lock = threading.Lock()

    def transcribe(self, pcm16: bytes, sample_rate: int = INPUT_SAMPLE_RATE) -> str:
        if sample_rate != INPUT_SAMPLE_RATE:
            pcm16 = resample_pcm16(pcm16, sample_rate, INPUT_SAMPLE_RATE)
        samples = pcm16_to_float32(pcm16)
        if samples.size == 0:
            return ""
        try:
            with self._lock:
                segments, _info = self._model.transcribe(
                    samples,
                    language="en",
                    beam_size=1,
                    without_timestamps=True,
                    condition_on_previous_text=False,
                    vad_filter=False,
                )
                text = " ".join(s.text.strip() for s in segments)
        except (RuntimeError, ValueError) as exc:
            raise ProviderError(self.name, f"transcription failed: {exc}", retryable=False) from exc
        return text.strip()

    def warm_up(self) -> None:
        self.transcribe(np.zeros(INPUT_SAMPLE_RATE // 2, dtype="<i2").tobytes())
