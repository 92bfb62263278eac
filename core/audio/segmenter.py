"""Voice-activity segmentation: 30 ms frames in, utterances out.

Speech starts when ``start_frames`` of the last ``start_window`` frames are voiced; it
ends after ``end_silence_ms`` without a voiced frame. The utterance audio keeps
``pre_roll_ms`` before the first voiced frame (so the first syllable survives) and
``hangover_ms`` after the last one. Voiced stretches shorter than ``min_word_ms`` are
dropped as noise; ones shorter than ``min_utterance_ms`` come out as ``short`` utterances
(a "yes" lasts 0.2-0.3 s: whether it was a word is for the transcript to say); ones
reaching ``max_utterance_ms`` are cut there. After
``speculate_after_ms`` of silence a ``SpeechPaused`` event carries the audio so far, so
transcription can start while the rest of the end-of-turn silence is still awaited. Times are stream
milliseconds counted from the first frame the segmenter saw.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.audio.neural_vad import VoiceBatch
from core.audio.pcm import ms_to_bytes
from core.audio.vad import FrameVoice, SpeechDetector, StagedVoice

FRAME_MS = 30
FRAME_BYTES = ms_to_bytes(FRAME_MS)


@dataclass(frozen=True)
class SegmenterConfig:
    start_frames: int = 3
    start_window: int = 5
    end_silence_ms: int = 300
    hangover_ms: int = 150
    pre_roll_ms: int = 240
    min_utterance_ms: int = 280
    min_word_ms: int = 120  # shorter voiced stretches are noise; up to min_utterance_ms, "short"
    max_utterance_ms: int = 12000
    aggressiveness: int = 2
    speculate_after_ms: int = 60  # 0 turns speculation off
    discard_after_ms: int = 300  # silence that ends a stretch too short to be an utterance
    neural: bool = False  # confirm speech with the Silero model (see core.audio.vad)


@dataclass(frozen=True)
class SpeechStarted:
    start_ms: int


@dataclass(frozen=True)
class Utterance:
    start_ms: int  # first voiced frame
    end_ms: int  # end of the last voiced frame (or of the cut)
    audio: bytes  # PCM16 16 kHz mono, with pre-roll and hangover
    cut: bool = False  # True when the maximum length forced the end
    short: bool = False  # under min_utterance_ms: one short word, or a noise the words will tell

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class SpeechPaused:
    """Speech may have ended at ``end_ms``; ``audio`` is what an utterance ending there holds."""

    start_ms: int
    end_ms: int
    audio: bytes


@dataclass(frozen=True)
class SpeechResumed:
    """Voice again after a ``SpeechPaused``: the same utterance goes on."""

    at_ms: int


@dataclass(frozen=True)
class SpeechDiscarded:
    start_ms: int
    end_ms: int


SegmentEvent = SpeechStarted | SpeechPaused | SpeechResumed | Utterance | SpeechDiscarded
VoiceDetector = Callable[[bytes], FrameVoice]


class Segmenter:
    def __init__(self, config: SegmenterConfig, detector: VoiceDetector | None = None) -> None:
        self.config = config
        self._detect = detector or SpeechDetector(config.aggressiveness, config.neural)
        self._pre_roll_frames = config.pre_roll_ms // FRAME_MS
        self._hangover_frames = config.hangover_ms // FRAME_MS
        self._end_silence_frames = max(1, -(-config.end_silence_ms // FRAME_MS))
        self._speculate_frames = -(-config.speculate_after_ms // FRAME_MS)
        self._discard_frames = max(1, -(-config.discard_after_ms // FRAME_MS))
        self._max_frames = max(1, config.max_utterance_ms // FRAME_MS)
        # Frames seen while silent: enough for the pre-roll and the start window.
        self._recent: deque[tuple[bytes, bool]] = deque(
            maxlen=self._pre_roll_frames + config.start_window
        )
        self._frames: list[bytes] = []  # the utterance so far, from its pre-roll
        self._index = 0  # index of the next frame
        self._in_speech = False
        self._start_index = 0  # first voiced frame of the utterance
        self._audio_start_index = 0  # first frame kept in _frames
        self._last_voiced_index = 0
        self.last_frame_voiced = False

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def now_ms(self) -> int:
        return self._index * FRAME_MS

    def set_end_silence_ms(self, ms: int) -> None:
        self._end_silence_frames = max(1, -(-ms // FRAME_MS))

    def set_aggressiveness(self, mode: int) -> None:
        """A stricter or more lenient voice detector from the next frame on."""
        setter = getattr(self._detect, "set_aggressiveness", None)
        if setter is not None:
            setter(mode)

    def reset(self) -> None:
        """Forget any speech in progress (the stream clock keeps running); speech that
        goes on after this starts a new segment."""
        self._recent.clear()
        self._frames = []
        self._in_speech = False

    def stage(self, frame: bytes, batch: VoiceBatch) -> FrameVoice | StagedVoice:
        """The detector's first step on ``frame`` (its speech model's part in ``batch``)."""
        if len(frame) != FRAME_BYTES:
            raise ValueError(f"frames must be {FRAME_BYTES} bytes, got {len(frame)}")
        detect = self._detect
        return detect.stage(frame, batch) if isinstance(detect, SpeechDetector) else detect(frame)

    def process(self, frame: bytes) -> list[SegmentEvent]:
        batch = VoiceBatch()
        staged = self.stage(frame, batch)
        batch.run()
        return self.process_staged(frame, staged)

    def process_staged(self, frame: bytes, staged: FrameVoice | StagedVoice) -> list[SegmentEvent]:
        """``frame`` once the batch it was staged in has run (frames in their order)."""
        detect = self._detect
        voice: FrameVoice = detect.resolve(staged) if isinstance(detect, SpeechDetector) else staged  # type: ignore[assignment]
        # Any voice-like sound may be the start of words (and holds a reply back); only
        # confirmed speech keeps an utterance going, so a breath does not delay its end.
        self.last_frame_voiced = voice.sound
        index = self._index
        self._index += 1
        if self._in_speech:
            return self._continue_speech(frame, voice.speech, index)
        return self._listen_for_start(frame, voice.sound, index)

    def _listen_for_start(self, frame: bytes, voiced: bool, index: int) -> list[SegmentEvent]:
        self._recent.append((frame, voiced))
        if not voiced:
            # The window before this frame held too few voiced frames (or speech would have
            # started, and ``_recent`` been cleared); an unvoiced frame cannot add one.
            return []
        window = list(self._recent)[-self.config.start_window :]
        if sum(v for _, v in window) < self.config.start_frames:
            return []
        first_in_window = len(self._recent) - len(window)
        first_voiced = next(i for i in range(first_in_window, len(self._recent)) if self._recent[i][1])
        keep_from = max(0, first_voiced - self._pre_roll_frames)
        recent = list(self._recent)
        self._frames = [f for f, _ in recent[keep_from:]]
        offset = len(recent) - 1 - first_voiced  # frames between first voiced and now
        self._start_index = index - offset
        self._audio_start_index = self._start_index - (first_voiced - keep_from)
        self._last_voiced_index = index
        self._in_speech = True
        self._recent.clear()
        return [SpeechStarted(self._start_index * FRAME_MS)]

    def _continue_speech(self, frame: bytes, voiced: bool, index: int) -> list[SegmentEvent]:
        self._frames.append(frame)
        events: list[SegmentEvent] = []
        if voiced:
            paused = self._speculate_frames and index - self._last_voiced_index > self._speculate_frames
            if paused:
                events.append(SpeechResumed(index * FRAME_MS))
            self._last_voiced_index = index
        if index + 1 - self._start_index >= self._max_frames:
            return [*events, self._finish(end_index=index + 1, cut=True)]
        silent_frames = index - self._last_voiced_index
        voiced_ms = (self._last_voiced_index + 1 - self._start_index) * FRAME_MS
        too_short = voiced_ms < self.config.min_utterance_ms
        if too_short and silent_frames >= min(self._discard_frames, self._end_silence_frames):
            return [*events, self._finish(end_index=self._last_voiced_index + 1, cut=False)]
        if silent_frames >= self._end_silence_frames:
            return [*events, self._finish(end_index=self._last_voiced_index + 1, cut=False)]
        if self._speculate_frames and silent_frames == self._speculate_frames:
            end_index = self._last_voiced_index + 1
            if (end_index - self._start_index) * FRAME_MS >= self.config.min_utterance_ms:
                keep = end_index - self._audio_start_index + min(silent_frames, self._hangover_frames)
                events.append(SpeechPaused(self._start_index * FRAME_MS, end_index * FRAME_MS,
                                           b"".join(self._frames[:keep])))
        return events

    def _finish(self, end_index: int, cut: bool) -> SegmentEvent:
        start_ms = self._start_index * FRAME_MS
        end_ms = end_index * FRAME_MS
        keep_until = min(end_index + self._hangover_frames, self._index) - self._audio_start_index
        audio = b"".join(self._frames[:keep_until])
        self._frames = []
        self._in_speech = False
        voiced_ms = end_ms - start_ms
        if not cut and voiced_ms < min(self.config.min_word_ms, self.config.min_utterance_ms):
            return SpeechDiscarded(start_ms, end_ms)
        short = not cut and voiced_ms < self.config.min_utterance_ms
        return Utterance(start_ms, end_ms, audio, cut, short=short)
