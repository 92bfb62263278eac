"""Does the speech so far sound like the end of a turn? Smart Turn v3.2 (BSD-2, an 8 MB
int8 ONNX model made by the pipecat project) hears intonation and rhythm: a voice that
falls at the end of a statement, against one held up mid-sentence before a pause.

Input: the turn's audio, the last ``WINDOW_S`` seconds of it at 16 kHz (zeros in front
when shorter), normalized to zero mean and unit variance, as a Whisper log-mel
spectrogram (80 bands, 10 ms hops: faster-whisper's own feature extractor, the same
arithmetic the model was trained on). Output: the probability that the turn is over.

The model file is not on PyPI by itself; the setup takes it out of the ``pipecat-ai``
wheel (``core.providers.embedded.model_files``). Without it the end of a turn is judged
from the words and the silence alone.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
WINDOW_S = 8
WINDOW_SAMPLES = WINDOW_S * SAMPLE_RATE
_VARIANCE_FLOOR = 1e-7


class TurnModel:
    """Thread-safe: one inference session, run from any thread."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime
        from faster_whisper.feature_extractor import FeatureExtractor

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(path), sess_options=options,
                                                     providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._features = FeatureExtractor(feature_size=80, chunk_length=WINDOW_S)
        self._lock = threading.Lock()  # (the feature extractor keeps per-call state)

    def features(self, audio: np.ndarray) -> np.ndarray:
        """``audio``: 16 kHz mono, int16 or float in [-1, 1]. Returns (80, 800) float32."""
        samples = audio.astype(np.float32)
        if audio.dtype == np.int16:
            samples /= 32768.0
        samples = samples[-WINDOW_SAMPLES:]
        if samples.size < WINDOW_SAMPLES:
            samples = np.concatenate([np.zeros(WINDOW_SAMPLES - samples.size, np.float32), samples])
        samples = (samples - samples.mean()) / np.sqrt(samples.var() + _VARIANCE_FLOOR)
        with self._lock:
            mel: np.ndarray = self._features(samples, padding=0)
        return mel[:, : WINDOW_SAMPLES // 160].astype(np.float32)

    def finished(self, audio: np.ndarray) -> float:
        """The probability (0-1) that the speaker has finished their turn."""
        batch = self.features(audio)[np.newaxis]
        outputs: Any = self._session.run(None, {self._input: batch})
        return float(np.asarray(outputs[0]).reshape(-1)[0])
