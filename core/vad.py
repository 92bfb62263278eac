"""Frame-level speech detection: webrtcvad, gated by energy above the noise floor.

webrtcvad keeps calling frames voiced for ~120 ms after speech stops (its own
hangover), and in steady noise it can call everything voiced. Requiring the frame to
stand clearly above a tracked noise floor removes both: the end of speech is found
where it really is, so the end-of-turn silence is counted from the right moment.
"""

from __future__ import annotations

import numpy as np
import webrtcvad

from core.audio import INPUT_SAMPLE_RATE

ABSOLUTE_FLOOR = 30.0  # RMS in PCM16 units (about -61 dBFS): below this is silence
FLOOR_RISE_PER_FRAME = 1.007  # the floor estimate doubles in about 3 s without quieter frames
SPEECH_OVER_FLOOR = 2.5  # a speech frame is at least ~8 dB above the floor


def frame_rms(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


class SpeechDetector:
    def __init__(self, aggressiveness: int) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        # Start low: speech in the very first frames must not become the floor.
        self._floor = ABSOLUTE_FLOOR

    def __call__(self, frame: bytes) -> bool:
        rms = frame_rms(frame)
        if rms < self._floor:
            # Minimum tracking: follow quiet frames down at once, but not below the
            # absolute floor, or room noise after digital silence would count as speech.
            self._floor = max(rms, ABSOLUTE_FLOOR)
        else:
            self._floor *= FLOOR_RISE_PER_FRAME
        loud = rms >= max(ABSOLUTE_FLOOR, self._floor * SPEECH_OVER_FLOOR)
        return loud and self._vad.is_speech(frame, INPUT_SAMPLE_RATE)
