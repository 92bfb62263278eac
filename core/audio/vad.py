"""Frame-level speech detection: webrtcvad, gated by energy and (optionally) Silero.

webrtcvad keeps calling frames voiced for ~120 ms after speech stops (its own
hangover), and in steady noise it can call everything voiced. Requiring the frame to
stand clearly above a tracked noise floor removes both: that is ``sound``, known
from the frame alone, so the start of speech (and a barge-in) is heard at once.

Breaths and lip noise are loud enough to pass that gate. The Silero model
(``core.audio.neural_vad``) is not fooled by them, but it needs a chunk or two to be sure
at an onset. So ``speech`` (sound that Silero agrees is speech) decides where words
end, and ``sound`` decides where they may begin.
"""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple

import numpy as np
import webrtcvad

from core.audio.neural_vad import Probability, SpeechProbability, VoiceBatch
from core.audio.pcm import INPUT_SAMPLE_RATE

ABSOLUTE_FLOOR = 30.0  # RMS in PCM16 units (about -61 dBFS): below this is silence
FLOOR_RISE_PER_FRAME = 1.007  # the floor estimate doubles in about 3 s without quieter frames
SPEECH_OVER_FLOOR = 2.5  # a speech frame is at least ~8 dB above the floor
# Silero's usual hysteresis: speech begins above 0.5 and lasts until it drops below 0.35.
NEURAL_ON = 0.5
NEURAL_OFF = 0.35
# After this many quiet frames (below the energy gate) the model rests: nothing it says
# could make a quiet frame speech, and an open microphone is quiet most of the time.
# The model's cost then follows the sound, not the number of open sessions.
NEURAL_REST_AFTER_FRAMES = 10  # 300 ms
NEURAL_WARM_UP_FRAMES = 4  # quiet audio fed to a rested model before the next sound (120 ms)


def frame_rms(frame: bytes) -> float:
    # The sum of squares in int64 is exact, and costs a third of np.mean's on float32
    # (per-call overhead dominates at 480 samples). Not np.dot on floats: BLAS lets go of
    # the GIL, and getting it back behind busy socket threads costs far more than the sum.
    samples = np.frombuffer(frame, dtype="<i2").astype(np.int64)
    return math.sqrt(int(samples @ samples) / samples.size) if samples.size else 0.0


class FrameVoice(NamedTuple):
    sound: bool  # voice-like and clearly above the noise floor: maybe speech, maybe a breath
    speech: bool  # sound that the neural model confirms (equal to ``sound`` without it)


class StagedVoice(NamedTuple):
    """A frame's decision waiting for the speech model's batch (``SpeechDetector.stage``)."""

    sound: bool
    probability: Probability | None  # None: the model rests, the frame is quiet


class SpeechDetector:
    """Decides frame by frame, either at once (``__call__``) or in two steps around a
    ``VoiceBatch`` shared with other sessions (``stage``, the batch runs, ``resolve``,
    in the frames' order)."""

    def __init__(self, aggressiveness: int, neural: bool = False) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        # Start low: speech in the very first frames must not become the floor.
        self._floor = ABSOLUTE_FLOOR
        self._neural = SpeechProbability() if neural else None
        self._neural_speech = False
        self._quiet_frames = 0
        self._resting = False
        self._recent_quiet: deque[bytes] = deque(maxlen=NEURAL_WARM_UP_FRAMES)

    def set_aggressiveness(self, mode: int) -> None:
        self._vad.set_mode(mode)

    def __call__(self, frame: bytes) -> FrameVoice:
        batch = VoiceBatch()
        staged = self.stage(frame, batch)
        batch.run()
        return self.resolve(staged)

    def stage(self, frame: bytes, batch: VoiceBatch) -> FrameVoice | StagedVoice:
        """What the frame alone tells; its audio handed to the model's ``batch``."""
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
        if not self._neural_sees(frame, loud, batch):
            return StagedVoice(False, None)
        return StagedVoice(sound, self._neural.feed(frame, batch))

    def resolve(self, staged: FrameVoice | StagedVoice) -> FrameVoice:
        """The frame's decision, once the batch it was staged in has run."""
        if isinstance(staged, FrameVoice):
            return staged
        if staged.probability is None:
            self._neural_speech = False  # a rested model starts again from silence
            return FrameVoice(False, False)
        probability = staged.probability.probability
        self._neural_speech = probability >= (NEURAL_OFF if self._neural_speech else NEURAL_ON)
        return FrameVoice(staged.sound, staged.sound and self._neural_speech)

    def _neural_sees(self, frame: bytes, loud: bool, batch: VoiceBatch) -> bool:
        """Whether the model is to hear this frame; False while it rests in a quiet stretch.

        The model's state depends on the silence too, so a rested model starts again from
        its initial (silent) state and first hears the last quiet frames before the sound.
        """
        assert self._neural is not None
        if loud:
            self._quiet_frames = 0
            if self._resting:
                self._resting = False
                for quiet in self._recent_quiet:
                    self._neural.feed(quiet, batch)
                self._recent_quiet.clear()
            return True
        self._quiet_frames += 1
        if self._quiet_frames <= NEURAL_REST_AFTER_FRAMES:
            return True
        if not self._resting:
            self._resting = True
            self._neural.reset()
        self._recent_quiet.append(frame)
        return False
