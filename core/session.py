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
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.audio import INPUT_SAMPLE_RATE, ms_to_bytes
from core.conversation_store import ConversationStore
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
    Record,
    Speak,
    Transcribe,
)
from core.model_workers import ModelWorkers
from core.outbox import Outbox
from core.protocol import (
    PROTOCOL_VERSION,
    ClientMessage,
    ProtocolError,
    check_audio_frame,
    encode_reply_audio,
    event,
    parse_control,
)
from core.provider_catalog import ProviderCatalog
from core.providers.base import ProviderError
from core.recovery import ProviderWatch, status_message
from core.segmenter import (
    FRAME_BYTES,
    Segmenter,
    SegmentEvent,
    SpeechDiscarded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    Utterance,
)
from core.session_settings import SessionSettings, segmenter_config, updated
from core.settings import Settings
from core.stream_buffer import StreamBuffer
from core.turn_engine import TurnEngine
from core.turn_jobs import EngineInput, TurnJobs
from core.turn_recorder import TurnRecorder
from monitoring.monitor import PerformanceMonitor

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class SessionServices:
    """What the process shares with every session."""

    workers: ModelWorkers
    catalog: ProviderCatalog
    monitor: PerformanceMonitor
    engine_config: EngineConfig
    store: ConversationStore | None = None
    channel: str = "browser"  # how the person reaches the assistant: "browser" or "phone"


class Session:
    def __init__(self, session_id: str, settings: Settings, services: SessionServices,
                 send: Callable[[str | bytes], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.id = session_id
        self.resume_token = secrets.token_urlsafe(24)
        self._settings = settings
        self._catalog = services.catalog
        self.channel = services.channel
        self._recorder = TurnRecorder(services.store, session_id, services.monitor, services.channel)
        self._providers = services.catalog.defaults
        self._monitor = services.monitor
        self._clock = clock
        self._lock = threading.RLock()
        self._base_engine_config = services.engine_config
        self._own_settings = SessionSettings.defaults(settings)
        self._engine = TurnEngine(services.engine_config, self._now())
        self._buffer = StreamBuffer(ms_to_bytes(settings.input_buffer_ms), FRAME_BYTES,
                                    max_chunks=settings.input_buffer_chunks)
        self._segmenter = Segmenter(segmenter_config(settings))
        self._turn_jobs = TurnJobs(services.workers, self._engine, self._deliver, lambda: not self.active)
        self._listening = False
        self._voice_since_ms: int | None = None  # stream time of the latest speech onset
        self._warned_not_listening = False
        self._closed = False
        self._detached = False
        self.epoch = 0  # how many times the session was resumed on a new socket
        self._provider_watch = ProviderWatch(self._providers)
        self._outbox = self._new_outbox(send)

    def _new_outbox(self, send: Callable[[str | bytes], None]) -> Outbox:
        return Outbox(send, self._settings.output_queue_items, self._engine.audio_allowed, self.id)

    def _now(self) -> float:
        return self._clock() * 1000.0

    # ----- lifecycle ---------------------------------------------------------------------
    def open(self, resumed: bool = False) -> None:
        with self._lock:
            ready = event(
                "ready",
                protocol=PROTOCOL_VERSION,
                session_id=self.id,
                resume_token=self.resume_token,
                resume_window_s=self._settings.resume_window_s,
                input_sample_rate=INPUT_SAMPLE_RATE,
                output_sample_rate=self._providers.tts.sample_rate,
                settings=self._own_settings.as_event(),
                providers=self._providers.names(),
                resumed=resumed,
            )
            if resumed:
                ready["history"] = [{"role": m.role, "text": m.text} for m in self._engine.history]
            self._outbox.put_event(ready)
            self._outbox.put_event(event("state", state=Phase.IDLE.value, turn=None))

    def detach(self, epoch: int | None = None) -> None:
        """The socket is gone: stop the turn in progress and release the send thread and
        the buffers, but keep the conversation (history, settings) for a resume.

        ``epoch``: the attachment the caller served; a session resumed since is left alone.
        """
        with self._lock:
            if self._closed or self._detached or (epoch is not None and epoch != self.epoch):
                return
            self._detached = True
            self._stop_listening()
            self._turn_jobs.clear()
        self._outbox.close()

    def attach(self, send: Callable[[str | bytes], None]) -> None:
        """A client resumed the session on a new socket; it gets a new resume token."""
        self.detach()  # (its old socket may not have been noticed dead yet)
        with self._lock:
            if self._closed:
                raise RuntimeError("a closed session cannot be resumed")
            self.epoch += 1
            self._detached = False
            self.resume_token = secrets.token_urlsafe(24)
            self._outbox = self._new_outbox(send)
        self.open(resumed=True)

    def close(self) -> None:
        """Release everything the session holds; safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            if not self._detached:
                self._stop_listening()
            self._closed = True
            self._turn_jobs.clear()
        self._outbox.close()

    def _stop_listening(self) -> None:
        self._listening = False
        self._apply(self._engine.stop(self._now()))
        self._buffer.clear()
        self._segmenter.reset()

    @property
    def active(self) -> bool:
        return not (self._closed or self._detached)

    @property
    def phase(self) -> Phase:
        return self._engine.phase

    # ----- from the client ---------------------------------------------------------------
    def handle_text(self, text: str) -> None:
        try:
            message = parse_control(text)
        except ProtocolError as exc:
            self.report(exc)
            return
        self.handle_message(message)

    def report(self, error: ProtocolError) -> None:
        """Tell the client what was wrong with its message."""
        self._error(error.code, str(error))

    @property
    def fresh(self) -> bool:
        """Nothing has happened yet: a resume may still replace this session."""
        return not self._listening and not self._engine.history and self._engine.phase is Phase.IDLE

    @property
    def worth_resuming(self) -> bool:
        return bool(self._engine.history) or self._own_settings != SessionSettings.defaults(self._settings)

    def handle_message(self, message: ClientMessage) -> None:
        if message.type == "resume":  # (the transport resumes; a session cannot)
            self._error("out_of_order", "resume must be the first message on a new connection")
            return
        if message.type == "settings":
            self._change_settings(message.data)
            return
        with self._lock:
            if not self.active:
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
                self._stop_listening()
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
            if not self.active:
                return
            self._own_settings, self._providers = own, providers
            self._provider_watch = ProviderWatch(providers)
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
            if not self.active:
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

    def playback_progress(self, turn: int, played_ms: float) -> None:
        """How much of ``turn``'s reply the client has played (transports that know it:
        a phone call's marks). Not part of the browser protocol."""
        with self._lock:
            if self.active:
                self._engine.playback_progress(turn, played_ms)

    def tick(self) -> None:
        """Called every few tens of milliseconds by the runtime, audio or not."""
        with self._lock:
            if self.active:
                self._apply(self._engine.tick(self._now()))
                self._tell_provider_changes()

    def _tell_provider_changes(self) -> None:
        """A provider went out of use, was replaced by its fallback, or came back."""
        for status in self._provider_watch.changes():
            self._monitor.count(f"provider_{status.circuit}:{status.role}")
            self._outbox.put_event(event(
                "provider_status", role=status.role, primary=status.primary, active=status.active,
                state="fallback" if status.using_fallback else status.circuit,
                message=status_message(status)))

    def _segment(self, seg: SegmentEvent, now: float) -> list[Action]:
        engine = self._engine
        if isinstance(seg, SpeechStarted):
            self._voice_since_ms = seg.start_ms
            return engine.speech_started(now)
        if isinstance(seg, SpeechPaused):
            return engine.speech_paused(seg.end_ms, seg.audio, now)
        if isinstance(seg, SpeechResumed):
            self._voice_since_ms = seg.at_ms
            return engine.speech_resumed(now)
        self._voice_since_ms = None  # the speech is over
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
                self._turn_jobs.transcribe(self._providers.stt, action.job, action.audio)
            elif isinstance(action, DropTranscription):
                self._turn_jobs.drop_transcription(action.job)
            elif isinstance(action, Generate):
                self._turn_jobs.generate(self._providers.llm, action)
            elif isinstance(action, Prepare):
                self._turn_jobs.prepare(self._providers.llm, action.history)
            elif isinstance(action, Speak):
                self._turn_jobs.speak(self._providers.tts, action.turn, action.text)
            elif isinstance(action, EndSpeech):
                if not self._turn_jobs.end_speech(action.turn):
                    # nothing was said: the engine still needs to hear it is over
                    self._apply(self._engine.speech_finished(action.turn, self._now()))
            elif isinstance(action, Cancel):
                self._turn_jobs.cancel(action.turn)
            elif isinstance(action, EndSegment):
                self._segmenter.reset()
            elif isinstance(action, Record):
                self._recorder.record(action)

    def _emit(self, payload: dict[str, Any]) -> None:
        kind = payload["type"]
        if kind == "reply_done":
            self._monitor.record_turn(payload.get("timings", {}), self.id, self.channel)
        elif kind == "clear" and payload.get("reason") == "barge_in":
            self._monitor.count("barge_ins")
            if self._voice_since_ms is not None:  # audio heard from the first voiced frame to here
                self._monitor.record_barge_in(float(self._segmenter.now_ms - self._voice_since_ms))
                self._voice_since_ms = None
        elif kind == "resume":
            self._monitor.count("false_interruptions")
        elif kind == "error":
            self._monitor.count(f"error:{payload.get('code')}")
        self._outbox.put_event(payload, before=self._recorder.gate(payload))

    def _error(self, code: str, message: str, **extra: Any) -> None:
        self._monitor.count(f"error:{code}")
        self._outbox.put_event(event("error", code=code, message=message, **extra))

    def _deliver(self, engine_input: EngineInput) -> None:
        """Run an engine input from a worker thread, under the lock."""
        with self._lock:
            if self.active:
                self._apply(engine_input(self._now()))
