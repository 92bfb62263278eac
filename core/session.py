"""One voice session: the glue between a socket, the turn engine and the model workers.

The transport calls ``handle_text`` / ``handle_binary`` from the socket thread, the
runtime's ticker calls ``tick``, and the model workers call back from their pools. Each
of those takes the session lock, tells the ``TurnEngine`` what happened and carries out
the actions it returns, still under the lock, so events and audio leave in exactly the
order the engine decided. Nothing done under the lock waits on a model.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from core.audio import INPUT_SAMPLE_RATE, ms_to_bytes
from core.engine_types import (
    Action,
    Cancel,
    DropTranscription,
    Emit,
    EmitAudio,
    EndSegment,
    EndSpeech,
    EngineConfig,
    Generate,
    Phase,
    Prepare,
    Speak,
    Transcribe,
)
from core.model_workers import ModelWorkers, SpeechFeed
from core.outbox import Outbox
from core.protocol import (
    PROTOCOL_VERSION,
    ProtocolError,
    check_audio_frame,
    encode_reply_audio,
    event,
    parse_control,
)
from core.provider_catalog import ProviderCatalog
from core.providers.base import ProviderError
from core.segmenter import (
    FRAME_BYTES,
    Segmenter,
    SegmenterConfig,
    SegmentEvent,
    SpeechDiscarded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    Utterance,
)
from core.session_settings import SessionSettings, updated
from core.settings import Settings
from core.stream_buffer import StreamBuffer
from core.turn_engine import TurnEngine
from core.workers import Overloaded
from monitoring.monitor import PerformanceMonitor

log = logging.getLogger(__name__)

# Cancelled turns whose workers may still be running; the oldest is forgotten first (its
# work finished long ago, and its output would be dropped as stale anyway).
MAX_CANCELLED_REMEMBERED = 64


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
        neural=s.vad_neural,
    )


class Session:
    def __init__(self, session_id: str, settings: Settings, workers: ModelWorkers,
                 catalog: ProviderCatalog, send: Callable[[str | bytes], None],
                 monitor: PerformanceMonitor, engine_config: EngineConfig,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.id = session_id
        self._settings = settings
        self._workers = workers
        self._catalog = catalog
        self._providers = catalog.defaults
        self._monitor = monitor
        self._clock = clock
        self._lock = threading.RLock()
        self._base_engine_config = engine_config
        self._own_settings = SessionSettings.defaults(settings)
        self._engine = TurnEngine(engine_config, self._now())
        self._buffer = StreamBuffer(ms_to_bytes(settings.input_buffer_ms), FRAME_BYTES)
        self._segmenter = Segmenter(segmenter_config(settings))
        self._jobs: dict[int, Future[None]] = {}
        self._feeds: dict[int, SpeechFeed] = {}
        self._cancelled: set[int] = set()
        self._listening = False
        self._warned_not_listening = False
        self._closed = False
        self._outbox = Outbox(send, settings.output_queue_items, self._engine.audio_allowed, session_id)

    def _now(self) -> float:
        return self._clock() * 1000.0

    # ----- lifecycle ---------------------------------------------------------------------
    def open(self) -> None:
        with self._lock:
            self._outbox.put_event(event(
                "ready",
                protocol=PROTOCOL_VERSION,
                session_id=self.id,
                input_sample_rate=INPUT_SAMPLE_RATE,
                output_sample_rate=self._providers.tts.sample_rate,
                settings=self._own_settings.as_event(),
                providers=self._providers.names(),
            ))
            self._outbox.put_event(event("state", state=Phase.IDLE.value, turn=None))

    def close(self) -> None:
        """Release everything the session holds; safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._listening = False
            self._apply(self._engine.stop(self._now()))
            for future in self._jobs.values():
                future.cancel()
            self._jobs.clear()
            self._feeds.clear()
            self._buffer.clear()
            self._segmenter.reset()
        self._outbox.close()

    @property
    def phase(self) -> Phase:
        return self._engine.phase

    # ----- from the client ---------------------------------------------------------------
    def handle_text(self, text: str) -> None:
        try:
            message = parse_control(text)
        except ProtocolError as exc:
            self._error(exc.code, str(exc))
            return
        if message.type == "settings":
            self._change_settings(message.data)
            return
        with self._lock:
            if self._closed:
                return
            now = self._now()
            kind, data = message.type, message.data
            if kind == "hello":
                rate = data.get("sample_rate", INPUT_SAMPLE_RATE)
                if rate != INPUT_SAMPLE_RATE:
                    self._error("unsupported_sample_rate",
                                f"send PCM16 mono at {INPUT_SAMPLE_RATE} Hz, not {rate!r}")
            elif kind == "start":
                if not self._listening:
                    self._listening = True
                    self._warned_not_listening = False
                    self._segmenter.reset()
                    self._buffer.clear()
                    self._apply(self._engine.start(now))
            elif kind == "stop":
                self._listening = False
                self._segmenter.reset()
                self._buffer.clear()
                self._apply(self._engine.stop(now))
            elif kind == "text":
                self._apply(self._engine.text(data["text"].strip(), now))
            elif kind == "playback_done":
                self._apply(self._engine.playback_done(data["turn"], now))
            elif kind == "ping":
                self._outbox.put_event(event("pong", t=data.get("t")))

    def _change_settings(self, data: dict[str, Any]) -> None:
        """The person's own settings for this session; all of them or, on a problem, none.

        New providers are built (an embedded model may load, a voice is tried) outside
        the session's lock, so the conversation and the ticker go on meanwhile.
        """
        with self._lock:
            current, providers, cue = self._own_settings, self._providers, self._engine.config.cue_audio
        try:
            own = updated(current, data, self._settings)
        except ProtocolError as exc:
            self._error(exc.code, str(exc))
            return
        if own.providers != current.providers:
            try:
                providers = self._catalog.providers_for(own.providers)
                if self._settings.thinking_cue_ms:
                    cue = self._catalog.cue_audio(providers.tts, self._settings.thinking_cue_text)
            except ProviderError as exc:
                self._error("provider_failed", f"{exc}. Settings not changed.",
                            provider=exc.provider, retryable=exc.retryable)
                return
        with self._lock:
            if self._closed:
                return
            self._own_settings, self._providers = own, providers
            config = dataclasses.replace(own.engine_config(self._base_engine_config), cue_audio=cue)
            self._engine.configure(config)
            self._segmenter.set_aggressiveness(own.vad_aggressiveness)
            self._segmenter.set_end_silence_ms(config.commit_unfinished_ms)
            self._outbox.put_event(event("settings_applied", settings=own.as_event(),
                                         providers=providers.names(),
                                         output_sample_rate=providers.tts.sample_rate))

    def handle_binary(self, frame: bytes) -> None:
        try:
            check_audio_frame(frame, self._settings.max_message_bytes)
        except ProtocolError as exc:
            self._error(exc.code, str(exc))
            return
        with self._lock:
            if self._closed:
                return
            if not self._listening:
                if not self._warned_not_listening:
                    self._warned_not_listening = True
                    self._error("not_listening", 'audio ignored: send {"type": "start"} first')
                return
            self._buffer.push(frame)
            for vad_frame in self._buffer.pop_frames():
                for seg_event in self._segmenter.process(vad_frame):
                    self._apply(self._segment(seg_event, self._now()))
                if self._segmenter.last_frame_voiced:
                    self._apply(self._engine.voice_activity(self._now()))
            self._apply(self._engine.tick(self._now()))

    def tick(self) -> None:
        """Called every few tens of milliseconds by the runtime, audio or not."""
        with self._lock:
            if not self._closed:
                self._apply(self._engine.tick(self._now()))

    def _segment(self, seg: SegmentEvent, now: float) -> list[Action]:
        engine = self._engine
        if isinstance(seg, SpeechStarted):
            return engine.speech_started(now)
        if isinstance(seg, SpeechPaused):
            return engine.speech_paused(seg.end_ms, seg.audio, now)
        if isinstance(seg, SpeechResumed):
            return engine.speech_resumed(now)
        if isinstance(seg, Utterance):
            return engine.utterance(seg.end_ms, seg.audio, now)
        assert isinstance(seg, SpeechDiscarded)
        return engine.speech_discarded(now)

    # ----- carrying out the engine's actions (always under the lock) ----------------------
    def _apply(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Emit):
                self._emit(action.event)
            elif isinstance(action, EmitAudio):
                payload = encode_reply_audio(action.turn, action.sample_rate, action.pcm, action.kind)
                self._outbox.put_audio(action.turn, payload)
            elif isinstance(action, Transcribe):
                self._transcribe(action.job, action.audio)
            elif isinstance(action, DropTranscription):
                future = self._jobs.pop(action.job, None)
                if future is not None:
                    future.cancel()
            elif isinstance(action, Generate):
                self._generate(action)
            elif isinstance(action, Prepare):
                self._workers.prepare(self._providers.llm, action.history)
            elif isinstance(action, Speak):
                self._speak(action.turn, action.text)
            elif isinstance(action, EndSpeech):
                feed = self._feeds.pop(action.turn, None)
                if feed is not None:
                    feed.close()
                else:  # nothing was said: the engine still needs to hear it is over
                    self._apply(self._engine.speech_finished(action.turn, self._now()))
            elif isinstance(action, Cancel):
                self._cancelled.add(action.turn)
                if len(self._cancelled) > MAX_CANCELLED_REMEMBERED:
                    self._cancelled.discard(min(self._cancelled))
                self._feeds.pop(action.turn, None)
            elif isinstance(action, EndSegment):
                self._segmenter.reset()

    def _emit(self, payload: dict[str, Any]) -> None:
        kind = payload["type"]
        if kind == "reply_done":
            self._monitor.record_turn(payload.get("timings", {}))
        elif kind == "clear" and payload.get("reason") == "barge_in":
            self._monitor.count("barge_ins")
        elif kind == "resume":
            self._monitor.count("false_interruptions")
        elif kind == "error":
            self._monitor.count(f"error:{payload.get('code')}")
        self._outbox.put_event(payload)

    def _error(self, code: str, message: str, **extra: Any) -> None:
        self._monitor.count(f"error:{code}")
        self._outbox.put_event(event("error", code=code, message=message, **extra))

    def _is_cancelled(self, turn: int) -> bool:
        return self._closed or turn in self._cancelled

    def _callback(self, fn: Callable[..., list[Action]]) -> Callable[..., None]:
        """Run an engine input from a worker thread, under the lock."""

        def call(*args: Any) -> None:
            with self._lock:
                if not self._closed:
                    self._apply(fn(*args, self._now()))

        return call

    def _transcribe(self, job: int, audio: bytes) -> None:
        def failed(error: ProviderError) -> None:
            with self._lock:
                self._jobs.pop(job, None)
                if not self._closed:
                    self._apply(self._engine.failed(None, job, str(error), error.retryable,
                                                    error.provider, self._now()))

        def done(text: str) -> None:
            with self._lock:
                self._jobs.pop(job, None)
                if not self._closed:
                    self._apply(self._engine.transcript(job, text, self._now()))

        try:
            self._jobs[job] = self._workers.transcribe(self._providers.stt, audio, done, failed)
        except Overloaded:
            failed(ProviderError("stt", "all workers busy", retryable=True))

    def _generate(self, action: Generate) -> None:
        turn = action.turn

        def failed(error: ProviderError) -> None:
            self._callback(lambda now: self._engine.failed(
                turn, None, str(error), error.retryable, error.provider, now))()

        try:
            self._workers.generate(
                self._providers.llm, action.history, action.text, action.avoid,
                on_piece=self._callback(lambda piece, now: self._engine.reply_piece(turn, piece, now)),
                on_done=self._callback(lambda now: self._engine.reply_finished(turn, now)),
                on_error=failed,
                cancelled=lambda: self._is_cancelled(turn),
            )
        except Overloaded:
            self._apply(self._engine.failed(turn, None, "busy", True, "llm", self._now()))

    def _speak(self, turn: int, text: str) -> None:
        feed = self._feeds.get(turn)
        if feed is None:
            feed = self._feeds[turn] = SpeechFeed()

            def failed(error: ProviderError) -> None:
                self._callback(lambda now: self._engine.failed(
                    turn, None, str(error), error.retryable, error.provider, now))()

            try:
                self._workers.speak(
                    self._providers.tts, feed,
                    on_audio=self._callback(lambda index, pcm, rate, now:
                                            self._engine.speech_audio(turn, index, pcm, rate, now)),
                    on_done=self._callback(lambda now: self._engine.speech_finished(turn, now)),
                    on_error=failed,
                    cancelled=lambda: self._is_cancelled(turn),
                )
            except Overloaded:
                self._feeds.pop(turn, None)
                self._apply(self._engine.failed(turn, None, "busy", True, "tts", self._now()))
                return
        feed.put(text)
