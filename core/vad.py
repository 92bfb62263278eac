"""Frame-level speech detection: webrtcvad, gated by energy and (optionally) Silero.

webrtcvad keeps calling frames voiced for ~120 ms after speech stops (its own
hangover), and in steady noise it can call everything voiced. Requiring the frame to
stand clearly above a tracked noise floor removes both: that is ``sound``, known
from the frame alone, so the start of speech (and a barge-in) is heard at once.

Breaths and lip noise are loud enough to pass that gate. The Silero model
(``core.neural_vad``) is not fooled by them, but it needs a chunk or two to be sure
at an onset. So ``speech`` (sound that Silero agrees is speech) decides where words
end, and ``sound`` decides where they may begin.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import webrtcvad

from core.audio import INPUT_SAMPLE_RATE
from core.neural_vad import SpeechProbability

ABSOLUTE_FLOOR = 30.0  # RMS in PCM16 units (about -61 dBFS): below this is silence
FLOOR_RISE_PER_FRAME = 1.007  # the floor estimate doubles in about 3 s without quieter frames
SPEECH_OVER_FLOOR = 2.5  # a speech frame is at least ~8 dB above the floor
# Silero's usual hysteresis: speech begins above 0.5 and lasts until it drops below 0.35.
NEURAL_ON = 0.5
NEURAL_OFF = 0.35


def frame_rms(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


class FrameVoice(NamedTuple):
    sound: bool  # voice-like and clearly above the noise floor: maybe speech, maybe a breath
    speech: bool  # sound that the neural model confirms (equal to ``sound`` without it)


class SpeechDetector:
    def __init__(self, aggressiveness: int, neural: bool = False) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        # Start low: speech in the very first frames must not become the floor.
        self._floor = ABSOLUTE_FLOOR
        self._neural = SpeechProbability() if neural else None
        self._neural_speech = False

    def set_aggressiveness(self, mode: int) -> None:
        self._vad.set_mode(mode)

    def __call__(self, frame: bytes) -> FrameVoice:
        rms = frame_rms(frame)
        if rms < self._floor:
            # Minimum tracking: follow quiet frames down at once, but not below the
            # absolute floor, or room noise after digital silence would count as speech.
            self._floor = max(rms, ABSOLUTE_FLOOR)
        else:
            self._floor *= FLOOR_RISE_PER_FRAME
        loud = rms >= max(ABSOLUTE_FLOOR, self._floor * SPEECH_OVER_FLOOR)
        sound = loud and self._vad.is_speech(frame, INPUT_SAMPLE_RATE)
        if self._neural is None:
            return FrameVoice(sound, sound)
        # The model sees every frame, voiced or not: its state depends on the silence too.
        probability = self._neural.push(frame)
        self._neural_speech = probability >= (NEURAL_OFF if self._neural_speech else NEURAL_ON)
        return FrameVoice(sound, sound and self._neural_speech)
