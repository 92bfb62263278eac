"""One voice session: client messages in, turns out, events and reply audio back.

The transport calls ``handle_text`` / ``handle_binary`` from the socket thread; those
only do cheap work (buffering, VAD, bookkeeping). Model work goes to the shared
``TurnProcessor``; its results come back through the ``TurnSink`` methods below, from
worker threads, and leave through the session's ``Outbox``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from core.audio import INPUT_SAMPLE_RATE, bytes_to_ms, ms_to_bytes
from core.history import ConversationHistory
from core.outbox import Outbox
from core.processor import TurnProcessor, TurnRequest, TurnTimings
from core.protocol import (
    PROTOCOL_VERSION,
    ProtocolError,
    check_audio_frame,
    encode_reply_audio,
    event,
    parse_control,
)
from core.providers.base import Message, ProviderError
from core.segmenter import (
    FRAME_BYTES,
    Segmenter,
    SegmenterConfig,
    SegmentEvent,
    SpeechPaused,
    SpeechStarted,
    Utterance,
)
from core.settings import Settings
from core.stream_buffer import StreamBuffer
from core.turns import State, TurnTracker
from core.workers import Overloaded
from monitoring.monitor import PerformanceMonitor

log = logging.getLogger(__name__)

# After the last reply audio, the client's playback is assumed over this much later
# than its length if the client never says so (a muted or silent client).
PLAYBACK_GRACE_MS = 500


def segmenter_config(s: Settings) -> SegmenterConfig:
    return SegmenterConfig(
        start_frames=s.vad_start_frames,
        start_window=s.vad_start_window,
        end_silence_ms=s.vad_end_silence_ms,
        hangover_ms=s.vad_hangover_ms,
        pre_roll_ms=s.vad_pre_roll_ms,
        min_utterance_ms=s.vad_min_utterance_ms,
        max_utterance_ms=s.vad_max_utterance_ms,
        aggressiveness=s.vad_aggressiveness,
        speculate_after_ms=s.vad_speculate_after_ms,
    )


@dataclass
class _Reply:
    turn: int
    audio_ms: float = 0.0
    first_audio_at: float | None = None
    done: bool = False


class Session:
    def __init__(self, session_id: str, settings: Settings, processor: TurnProcessor,
                 send: Callable[[str | bytes], None], monitor: PerformanceMonitor,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.id = session_id
        self._settings = settings
        self._processor = processor
        self._monitor = monitor
        self._clock = clock
        self._turns = TurnTracker()
        self._buffer = StreamBuffer(ms_to_bytes(settings.input_buffer_ms), FRAME_BYTES)
        self._segmenter = Segmenter(segmenter_config(settings))
        self._history = ConversationHistory(2 * settings.history_turns)
        self._lock = threading.Lock()
        self._reply: _Reply | None = None
        # Transcription started at a pause: (end of speech it assumed, its result).
        self._speculation: tuple[int, Future[str]] | None = None
        self._listening = False
        self._warned_not_listening = False
        self._closed = False
        self._outbox = Outbox(send, settings.output_queue_items, self.is_current, session_id)

    # ----- lifecycle -------------------------------------------------------------
    def open(self) -> None:
        self._send(event(
            "ready",
            protocol=PROTOCOL_VERSION,
            session_id=self.id,
            input_sample_rate=INPUT_SAMPLE_RATE,
            output_sample_rate=self._processor.providers.tts.sample_rate,
        ))
        self._send_state()

    def close(self) -> None:
        """Release everything the session holds; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._listening = False
        self._turns.cancel_active(State.IDLE)
        self._take_speculation(None)
        self._buffer.clear()
        self._segmenter.reset()
        self._outbox.close()

    @property
    def state(self) -> State:
        return self._turns.state

    # ----- from the client -------------------------------------------------------
    def handle_text(self, text: str) -> None:
        try:
            message = parse_control(text)
        except ProtocolError as exc:
            self._send_error(exc.code, str(exc))
            return
        handler = getattr(self, f"_on_{message.type}")
        handler(message.data)

    def handle_binary(self, frame: bytes) -> None:
        try:
            check_audio_frame(frame, self._settings.max_message_bytes)
        except ProtocolError as exc:
            self._send_error(exc.code, str(exc))
            return
        if not self._listening:
            if not self._warned_not_listening:
                self._warned_not_listening = True
                self._send_error("not_listening", "audio ignored: send {\"type\": \"start\"} first")
            return
        self._buffer.push(frame)
        for vad_frame in self._buffer.pop_frames():
            for seg_event in self._segmenter.process(vad_frame):
                self._on_segment(seg_event)
        self._check_playback_over()

    def _on_hello(self, data: dict[str, Any]) -> None:
        rate = data.get("sample_rate", INPUT_SAMPLE_RATE)
        if rate != INPUT_SAMPLE_RATE:
            self._send_error("unsupported_sample_rate",
                             f"send PCM16 mono at {INPUT_SAMPLE_RATE} Hz, not {rate!r}")

    def _on_start(self, _data: dict[str, Any]) -> None:
        if self._listening:
            return
        self._listening = True
        self._warned_not_listening = False
        self._take_speculation(None)
        self._segmenter.reset()
        self._buffer.clear()
        if self._turns.set_state(None, State.LISTENING):
            self._send_state()

    def _on_stop(self, _data: dict[str, Any]) -> None:
        self._listening = False
        self._take_speculation(None)
        self._segmenter.reset()
        self._buffer.clear()
        cancelled = self._turns.cancel_active(State.IDLE)
        if cancelled is not None:
            self._send(event("clear", turn=cancelled, reason="stopped"))
        self._send_state()

    def _on_text(self, data: dict[str, Any]) -> None:
        self._start_turn(TurnRequest(turn=0, history=(), text=data["text"].strip()))

    def _on_playback_done(self, data: dict[str, Any]) -> None:
        turn = data["turn"]
        with self._lock:
            reply = self._reply
            finished = reply is not None and reply.turn == turn and reply.done
        if finished:
            self._finish_speaking(turn)

    def _on_ping(self, data: dict[str, Any]) -> None:
        self._send(event("pong", t=data.get("t")))

    # ----- segmentation ----------------------------------------------------------
    def _on_segment(self, seg_event: SegmentEvent) -> None:
        if isinstance(seg_event, SpeechStarted):
            self._send(event("speech_started", at_ms=seg_event.start_ms))
            if self._turns.state is State.SPEAKING:
                self._barge_in()
        elif isinstance(seg_event, SpeechPaused):
            self._speculate(seg_event)
        elif isinstance(seg_event, Utterance):
            self._send(event("speech_stopped", at_ms=seg_event.end_ms,
                             duration_ms=seg_event.duration_ms, cut=seg_event.cut))
            early = self._take_speculation(seg_event.end_ms)
            self._start_turn(TurnRequest(turn=0, history=(), audio=seg_event.audio,
                                         early_transcript=early))
        else:
            self._take_speculation(None)
            self._send(event("speech_discarded", at_ms=seg_event.end_ms,
                             duration_ms=seg_event.end_ms - seg_event.start_ms))

    def _speculate(self, pause: SpeechPaused) -> None:
        """Transcribe at the first sign of a pause; used only if the pause ends the turn."""
        self._take_speculation(None)
        try:
            self._speculation = (pause.end_ms, self._processor.transcribe_ahead(pause.audio))
        except Overloaded:
            self._monitor.count("speculations_skipped")

    def _take_speculation(self, end_ms: int | None) -> Future[str] | None:
        """The speculative transcript if it covers speech ending at ``end_ms``, else None."""
        speculation, self._speculation = self._speculation, None
        if speculation is None:
            return None
        assumed_end, future = speculation
        if assumed_end == end_ms:
            self._monitor.count("speculations_used")
            return future
        future.cancel()  # a no-op once it runs; its result is simply never read
        self._monitor.count("speculations_discarded")
        return None

    def _barge_in(self) -> None:
        cancelled = self._turns.cancel_active(State.LISTENING)
        if cancelled is None:
            return
        self._send(event("clear", turn=cancelled, reason="barge_in"))
        self._monitor.count("barge_ins")
        self._send_state()

    # ----- turns -----------------------------------------------------------------
    def _start_turn(self, template: TurnRequest) -> None:
        turn, superseded = self._turns.open_turn()
        if superseded is not None:
            self._send(event("clear", turn=superseded, reason="superseded"))
        with self._lock:
            self._reply = _Reply(turn)
            history = self._history.messages()
        self._send_state()
        request = dataclasses.replace(template, turn=turn, history=history)
        try:
            self._processor.submit(request, self)
            self._monitor.count("turns_started")
        except Overloaded:
            self._monitor.count("turns_refused")
            self._send_error("busy", "The server is busy; please try again in a moment.",
                             turn=turn, retryable=True)
            self._turns.end_turn(turn, State.LISTENING if self._listening else State.IDLE)
            self._send_state()

    def _finish_speaking(self, turn: int) -> None:
        if self._turns.end_turn(turn, State.LISTENING if self._listening else State.IDLE):
            self._send_state()

    def _check_playback_over(self) -> None:
        with self._lock:
            reply = self._reply
            if reply is None or not reply.done or reply.first_audio_at is None:
                return
            ends_at = reply.first_audio_at + (reply.audio_ms + PLAYBACK_GRACE_MS) / 1000.0
        if self._clock() >= ends_at:
            self._finish_speaking(reply.turn)

    # ----- TurnSink: called from worker threads ----------------------------------
    def is_current(self, turn: int) -> bool:
        return not self._closed and self._turns.is_current(turn)

    def on_transcript(self, turn: int, text: str) -> None:
        self._send(event("transcript", turn=turn, text=text, final=True))

    def on_reply_text(self, turn: int, text: str) -> None:
        self._send(event("reply_text", turn=turn, text=text))

    def on_reply_audio(self, turn: int, pcm16: bytes, sample_rate: int) -> None:
        with self._lock:
            reply = self._reply
            if reply is None or reply.turn != turn:
                return
            first = reply.first_audio_at is None
            if first:
                reply.first_audio_at = self._clock()
            reply.audio_ms += bytes_to_ms(len(pcm16), sample_rate)
        if first:
            self._send(event("reply_started", turn=turn, sample_rate=sample_rate))
            if self._turns.set_state(turn, State.SPEAKING):
                self._send_state()
        self._outbox.put_audio(turn, encode_reply_audio(turn, sample_rate, pcm16))

    def on_reply_done(self, turn: int, user_text: str, reply_text: str, timings: TurnTimings) -> None:
        with self._lock:
            if user_text.strip():
                self._history.add(Message("user", user_text), Message("assistant", reply_text))
            reply = self._reply
            if reply is not None and reply.turn == turn:
                reply.done = True
            no_audio = reply is None or reply.first_audio_at is None
        self._monitor.record_turn(timings)
        self._send(event("reply_done", turn=turn, text=reply_text, timings=timings.as_dict()))
        if no_audio:
            self._finish_speaking(turn)

    def on_turn_error(self, turn: int, error: ProviderError) -> None:
        self._monitor.count("turn_errors")
        if not self.is_current(turn):
            return
        self._send_error("provider_failed", "The assistant could not answer that; please try again.",
                         turn=turn, retryable=error.retryable, provider=error.provider)
        self._finish_speaking(turn)

    # ----- sending -----------------------------------------------------------------
    def _send(self, payload: dict[str, Any]) -> None:
        self._outbox.put_event(payload)

    def _send_state(self) -> None:
        self._send(event("state", state=self._turns.state.value, turn=self._turns.active))

    def _send_error(self, code: str, message: str, **extra: Any) -> None:
        self._monitor.count(f"error:{code}")
        self._send(event("error", code=code, message=message, **extra))
