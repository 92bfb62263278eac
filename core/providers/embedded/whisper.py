"""Embedded speech-to-text: Whisper tiny.en through faster-whisper (CTranslate2, int8).

Whisper's encoder always looks at a 30 s window, so a 2 s question costs as much as
30 s of speech (~470 ms of encoder time here). With ``window_s`` set, the encoder gets
a shorter window instead (at least the audio plus a second): measured on 23 clips, a
10 s window had the same word error rate as 30 s (13.0 %) at about a third of the time
(median 259 ms against 697 ms). ``window_s=0`` keeps faster-whisper's own 30 s path.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from core.audio.pcm import INPUT_SAMPLE_RATE, pcm16_to_float32
from core.audio.resample import StreamResampler
from core.providers.base import ProviderError, STTProvider
from core.providers.embedded.model_files import whisper_model_dir

FULL_WINDOW_S = 30
HOP_SAMPLES = 160  # Whisper's feature hop: 100 frames a second
NO_SPEECH_PROB = 0.6  # with a low average log-probability: nothing was said
LOW_LOGPROB = -1.0
# A clip of a second or less (a "yes", a "no", with the segmenter's margins): the word
# fills little of the window, so Whisper's no-speech probability runs high for real words
# and their scores low (0.2-0.77 and -1.3 to -3.8 measured on quickly said one-word
# answers, the segmenter's own cut), while noise (clicks, coughs, hum, hiss) stays above
# 0.8. Such a clip has already been judged speech by the voice detectors: nothing only
# when Whisper is that sure.
SHORT_CLIP_S = 1.0
SHORT_NO_SPEECH_PROB = 0.8


def _nothing_said(no_speech_prob: float, score: float, seconds: float) -> bool:
    """Whisper's own verdict that the clip holds no words (it then writes "you" or "Oh")."""
    if seconds <= SHORT_CLIP_S:
        return no_speech_prob > SHORT_NO_SPEECH_PROB
    return no_speech_prob > NO_SPEECH_PROB and score < LOW_LOGPROB


class WhisperSTT(STTProvider):
    name = "whisper-tiny.en"

    def __init__(self, cpu_threads: int = 2, window_s: float = 10.0) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        self._model = WhisperModel(
            str(whisper_model_dir()),
            device="cpu",
            compute_type="int8",
            cpu_threads=cpu_threads,
        )
        self._window_s = window_s
        self._tokenizer = Tokenizer(self._model.hf_tokenizer, multilingual=False,
                                    task="transcribe", language="en")
        self._prompt = self._model.get_prompt(self._tokenizer, [], without_timestamps=True)
        # One decode at a time: a second one would only halve the speed of both.
        self._lock = threading.Lock()

    def transcribe(self, pcm16: bytes, sample_rate: int = INPUT_SAMPLE_RATE) -> str:
        if sample_rate != INPUT_SAMPLE_RATE:
            samples16 = np.frombuffer(pcm16, dtype="<i2")
            pcm16 = StreamResampler(sample_rate, INPUT_SAMPLE_RATE).process(samples16, last=True).tobytes()
        samples = pcm16_to_float32(pcm16)
        if samples.size == 0:
            return ""
        seconds = samples.size / INPUT_SAMPLE_RATE
        try:
            with self._lock:
                if self._window_s <= 0 or seconds + 1 > FULL_WINDOW_S:
                    return self._transcribe_full(samples)
                window = min(FULL_WINDOW_S, max(math.ceil(self._window_s), math.ceil(seconds + 1)))
                return self._transcribe_window(samples, window)
        except (RuntimeError, ValueError) as exc:
            raise ProviderError(self.name, f"transcription failed: {exc}", retryable=False) from exc

    def _transcribe_full(self, samples: np.ndarray) -> str:
        segments, _info = self._model.transcribe(
            samples,
            language="en",
            beam_size=1,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            # One decoding pass: the fallback re-decodes at higher temperatures and
            # once took 1.9 s on a 2 s question.
            temperature=0.0,
        )
        return " ".join(s.text.strip() for s in segments).strip()

    def _transcribe_window(self, samples: np.ndarray, window_s: int) -> str:
        total = int(window_s * INPUT_SAMPLE_RATE)
        padded = np.pad(samples, (0, total - samples.size))
        features = self._model.feature_extractor(padded)[:, : total // HOP_SAMPLES]
        encoded = self._model.encode(features)
        seconds = samples.size / INPUT_SAMPLE_RATE
        (result,) = self._model.model.generate(
            encoded,
            [self._prompt],
            beam_size=1,
            # Bounded by what a person can say in that time: no runaway repetition.
            max_length=min(self._model.max_length, int(seconds * 10) + 12),
            suppress_blank=True,
            suppress_tokens=[-1],
            return_scores=True,
            return_no_speech_prob=True,
        )
        if _nothing_said(result.no_speech_prob, result.scores[0], seconds):
            return ""
        return self._tokenizer.decode(result.sequences_ids[0]).strip()

    def warm_up(self) -> None:
        self.transcribe(np.zeros(INPUT_SAMPLE_RATE // 2, dtype="<i2").tobytes())
