"""The microphone's way into a session: a bounded buffer that re-frames 20 ms client
frames into the segmenter's 30 ms ones, the segmenter, and what it heard, in order.

It also remembers when the current stretch of voice began, for the barge-in figure:
how much audio had been heard when a reply was cleared. Before the segmenter, its echo
gate silences the frames that are only the reply coming back (``core.audio.echo_gate``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core.audio.echo_gate import EchoGate
from core.audio.neural_vad import VoiceBatch
from core.audio.pcm import ms_to_bytes
from core.audio.segmenter import (
    FRAME_BYTES,
    Segmenter,
    SegmentEvent,
    SpeechDiscarded,
    SpeechResumed,
    SpeechStarted,
    Utterance,
)
from core.audio.stream_buffer import StreamBuffer
from core.audio.vad import FrameVoice, StagedVoice
from core.conversation.events import Clear, OutputEvent, ReplyAudio
from core.session.echo_advice import EchoAdvice
from core.session.session_settings import segmenter_config
from core.settings import Settings


@dataclass(frozen=True)
class VoicedFrame:
    """A frame that sounded like a voice: maybe the start of more words."""


VOICED = VoicedFrame()


@dataclass(frozen=True)
class StagedAudio:
    """Client audio re-framed, its speech model's part waiting in a batch."""

    generation: int  # the front's resets before it: a reset since drops these frames
    frames: list[tuple[bytes, FrameVoice | StagedVoice]]


class AudioFront:
    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        """``clock``: the session's milliseconds (where the reply sent meets the microphone)."""
        self._clock = clock
        self._buffer = StreamBuffer(ms_to_bytes(settings.input_buffer_ms), FRAME_BYTES,
                                    max_chunks=settings.input_buffer_chunks)
        self._segmenter = Segmenter(segmenter_config(settings))
        self._voice_since_ms: int | None = None  # stream time of the latest speech onset
        self.generation = 0  # counts resets
        self.echo = EchoGate() if settings.echo_gate else None
        self.advice = EchoAdvice(self.echo)  # (headphones, once the echo is found loud)
        self._sounding_turn = 0  # the turn whose reply audio was sent last

    def hear(self, pcm: bytes) -> Iterator[SegmentEvent | VoicedFrame]:
        """Take a client frame; yield what the segmenter makes of the whole frames waiting.

        A generator on purpose: the caller acts on each event (a committed turn resets
        the segmenter) before the next frame is segmented.
        """
        batch = VoiceBatch()
        staged = self.stage(pcm, batch)
        batch.run()
        yield from self.hear_staged(staged)

    def stage(self, pcm: bytes, batch: VoiceBatch) -> StagedAudio:
        """Take a client frame: the whole frames waiting, their speech model's part in
        ``batch`` (shared with other sessions); ``hear_staged`` once it has run."""
        self._buffer.push(pcm)
        segmenter, echo = self._segmenter, self.echo
        frames = self._buffer.pop_frames()
        if echo is not None:
            now = self._clock()
            frames = [echo.filter(frame, now) for frame in frames]
        return StagedAudio(self.generation, [(frame, segmenter.stage(frame, batch)) for frame in frames])

    def observe(self, event: OutputEvent) -> None:
        """What the session sends: the reply audio the client will play (and its echo)."""
        if self.echo is None:
            return
        if isinstance(event, ReplyAudio):
            self._sounding_turn = event.turn
            self.echo.sent(event.pcm, event.sample_rate, self._clock())
        elif isinstance(event, Clear):
            self.echo.stopped(self._clock())

    def played(self, turn: int) -> None:
        """The client says it has played all of ``turn``'s reply: if that was the last
        audio sent, nothing more sounds (a client may play faster than the schedule the
        gate assumed, or report early)."""
        if self.echo is not None and turn == self._sounding_turn:
            self.echo.played(self._clock())

    def hear_staged(self, staged: StagedAudio) -> Iterator[SegmentEvent | VoicedFrame]:
        if staged.generation != self.generation:
            return  # listening stopped or started anew since: these frames are gone
        for frame, voice in staged.frames:
            for event in self._segmenter.process_staged(frame, voice):
                if isinstance(event, SpeechStarted):
                    self._voice_since_ms = event.start_ms
                elif isinstance(event, SpeechResumed):
                    self._voice_since_ms = event.at_ms
                elif isinstance(event, Utterance | SpeechDiscarded):
                    self._voice_since_ms = None  # the speech is over
                yield event
            if self._segmenter.last_frame_voiced:
                yield VOICED

    def reset(self) -> None:
        """Forget the audio waiting and any speech in progress (listening starts anew)."""
        self.generation += 1  # frames staged before this are not to be heard
        self._buffer.clear()
        self._segmenter.reset()
        if self.echo is not None:
            self.echo.reset()

    def end_segment(self) -> None:
        """The turn is committed: speech from now on is a new segment."""
        self._segmenter.reset()

    def configure(self, vad_aggressiveness: int, end_silence_ms: int) -> None:
        self._segmenter.set_aggressiveness(vad_aggressiveness)
        self._segmenter.set_end_silence_ms(end_silence_ms)

    def take_echo_silenced(self) -> int:
        """Frames silenced as the reply's own echo since the last call (for the metrics)."""
        if self.echo is None:
            return 0
        silenced, self.echo.silenced_frames = self.echo.silenced_frames, 0
        return silenced

    def take_voice_age_ms(self) -> float | None:
        """Audio heard since the current stretch of voice began (once; None when there is
        none): how long a barge-in took, from the first voiced frame to the clear."""
        since, self._voice_since_ms = self._voice_since_ms, None
        return None if since is None else float(self._segmenter.now_ms - since)
