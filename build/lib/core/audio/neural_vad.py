"""Speech probability from the Silero VAD model that faster-whisper ships (ONNX).

webrtcvad tells voice from silence well but also calls breaths, lip smacks and a
room's reverberation "speech": measured on the Beckett recording, the breath after a
phrase kept the utterance open 150-350 ms past its last word, and that delay is paid
on every turn before the end-of-turn silence even starts. Silero drops below 0.1
within 100 ms of the last word and stays there through the breaths. It costs about
0.1 ms per 32 ms of audio on one thread.

The model file comes inside the faster-whisper package: nothing is downloaded.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.audio.pcm import INPUT_SAMPLE_RATE

CHUNK_SAMPLES = 512  # the model's step at 16 kHz (32 ms)
CONTEXT_SAMPLES = 64  # samples of the previous chunk the model sees with each one
STATE_SHAPE = (1, 1, 128)
OUTPUTS = ["speech_probs", "hn", "cn"]  # the model's outputs, in the order ``push`` reads them
SCALE = np.float32(1.0 / 32768.0)

_session: Any = None
_session_lock = threading.Lock()


def model_path() -> Path:
    from faster_whisper.vad import get_assets_path

    return Path(get_assets_path()) / "silero_vad_v6.onnx"


def shared_session() -> Any:
    """One inference session per process; ``run`` is safe from several threads."""
    global _session
    with _session_lock:
        if _session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.inter_op_num_threads = 1
            options.intra_op_num_threads = 1
            options.log_severity_level = 4
            _session = onnxruntime.InferenceSession(
                str(model_path()), providers=["CPUExecutionProvider"], sess_options=options
            )
        return _session


class SpeechProbability:
    """The model's running speech probability over one audio stream.

    Audio arrives in any frame size; the model steps over consecutive 512-sample chunks
    and carries its recurrent state from one to the next, as it was trained to.
    """

    def __init__(self, sample_rate: int = INPUT_SAMPLE_RATE) -> None:
        if sample_rate != INPUT_SAMPLE_RATE:
            raise ValueError("the speech model runs on 16 kHz audio")
        self._session = shared_session()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(STATE_SHAPE, dtype=np.float32)
        # The model's input, filled in place: the previous chunk's last CONTEXT_SAMPLES,
        # then the chunk being collected (``_filled`` samples of it so far).
        self._window = np.zeros((1, CONTEXT_SAMPLES + CHUNK_SAMPLES), dtype=np.float32)
        self._filled = 0
        self.probability = 0.0

    def push(self, pcm16: bytes) -> float:
        """Add audio; returns the probability after the last whole chunk."""
        samples = np.frombuffer(pcm16, dtype="<i2")
        window, taken = self._window, 0
        while taken < samples.size:
            start = CONTEXT_SAMPLES + self._filled
            take = min(samples.size - taken, CHUNK_SAMPLES - self._filled)
            # (the same values as core.audio.pcm.pcm16_to_float32: 1/32768 is a power of two)
            np.multiply(samples[taken : taken + take], SCALE, out=window[0, start : start + take])
            taken += take
            self._filled += take
            if self._filled == CHUNK_SAMPLES:
                self._run()
        return self.probability

    def _run(self) -> None:
        """One model step over the full window; the chunk's tail becomes the next context."""
        window = self._window
        out, self._h, self._c = self._session.run(OUTPUTS, {"input": window, "h": self._h, "c": self._c})
        window[0, :CONTEXT_SAMPLES] = window[0, -CONTEXT_SAMPLES:]
        self._filled = 0
        self.probability = float(out.flat[0])
