"""One voice session: its lifecycle, its lock, and the inputs a transport (``audio``, ``text``...), the
ticker (``tick``) and the providers (``deliver``) give it. Each takes the lock, tells the ``TurnEngine`` and
has the ``ActionInterpreter`` carry out its decision under it, so output leaves in the engine's order.
Nothing under the lock waits. A bug in one input is logged once, counted, told to the client, and passes."""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from core.audio.neural_vad import VoiceBatch
from core.audio.pcm import check_pcm16
from core.bugs import INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, BugLog
from core.conversation.engine import TurnEngine
from core.conversation.events import ErrorNotice, OutputEvent, Phase, StateChanged
from core.conversation.history import CarriedConversation
from core.conversation.results import JobResult
from core.errors import ClientError
from core.session.audio_front import VOICED, AudioFront, StagedAudio
from core.session.events import Pong
from core.session.interpreter import ActionInterpreter
from core.session.observers import SessionMetrics
from core.session.options import SessionOptions
from core.session.outbox import Outbox
from core.session.port import OutputPort
from core.session.recorder import TurnRecorder
from core.session.services import SessionServices
from core.session.speech_turns import SpeechTurns
from core.session.turn_jobs import TurnJobs
from core.settings import Settings

log = logging.getLogger(__name__)


class Session:
    def __init__(self, session_id: str, settings: Settings, services: SessionServices, port: OutputPort,
                 clock: Callable[[], float] = time.monotonic,
                 on_broken: Callable[[], None] | None = None) -> None:
        self.id = session_id
        self.resume_token = secrets.token_urlsafe(24)
        self.channel = services.channel
        self.epoch = 0  # how many times the session was resumed on a new socket
        self._settings = settings
        self._metrics = services.metrics
        self._clock = clock
        self._lock = threading.RLock()
        self.ticked_at = -math.inf  # when its audio last ticked it (monotonic): the ticker skips it
        self._bugs = BugLog(services.metrics, f"session {session_id[:8]}")
        self._options = SessionOptions(settings, services.catalog, services.engine_config, clock)
        self._engine = TurnEngine(self._options.own.engine_config(services.engine_config), self._now())
        self._front = AudioFront(settings, self._now)
        self._observers = (SessionMetrics(self._metrics, session_id, self.channel, self._front), self._front)
        self._recorder = TurnRecorder(services.store, session_id, services.metrics, services.channel)
        self._jobs = TurnJobs(services.workers, self.deliver, lambda: not self.active, session_id,
                              services.reply_budget)
        self._speech = SpeechTurns(self._jobs, self.deliver, lambda: self._engine.history, self._options,
                                   self._metrics)
        self._interpreter = ActionInterpreter(self._engine, self._jobs, self._front, self._recorder, lambda:
                                              self._options.providers, self._emit, self._now, self._speech)
        self._listening = self._warned_not_listening = self._closed = self._detached = False
        self._outbox = Outbox(port, settings.output_queue_items, self._engine.audio_allowed, session_id,
                              self._metrics, on_broken)

    def _now(self) -> float:
        return self._clock() * 1000.0

    # ----- lifecycle ---------------------------------------------------------------------
    def open(self, resumed: bool = False) -> None:
        with self._lock:
            history = self._recorder.transcript(list(self._engine.history)) if resumed else None
            self._emit(self._options.ready(self.id, self.resume_token, resumed, history))
            self._emit(StateChanged(Phase.IDLE, None))

    def detach(self, epoch: int | None = None) -> None:
        """The socket is gone: stop the turn, release the sender and the buffers, keep the
        conversation to resume (``epoch``: the attachment served; a later one is left be)."""
        with self._lock:
            if self._closed or self._detached or (epoch is not None and epoch != self.epoch):
                return
            self._detached = True
            self._stop_listening()
            self._speech.clear()
        self._speech.reap()
        self._outbox.close()

    def attach(self, port: OutputPort, on_broken: Callable[[], None] | None = None) -> None:
        """A client resumed the session on a new socket; it gets a new resume token."""
        self.detach()  # (its old socket may not have been noticed dead yet)
        with self._lock:
            if self._closed:
                raise RuntimeError("a closed session cannot be resumed")
            self.epoch += 1
            self._detached = False
            self.resume_token = secrets.token_urlsafe(24)
            self._outbox = Outbox(port, self._settings.output_queue_items, self._engine.audio_allowed,
                                  self.id, self._metrics, on_broken)
            self._speech.follow_choice()
        self.open(resumed=True)

    def close(self) -> None:
        """Release everything the session holds; safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            if not self._detached:
                self._stop_listening()
            self._closed = True
            self._speech.clear()
            self._options.close()
        self._speech.reap()
        self._outbox.close()

    @property
    def active(self) -> bool:
        return not (self._closed or self._detached)

    @property
    def fresh(self) -> bool:
        """Nothing has happened yet: a resume may still replace this session."""
        return not self._listening and not self._engine.history and self._engine.phase is Phase.IDLE

    @property
    def worth_resuming(self) -> bool:
        return bool(self._engine.history) or self._options.changed

    def carried(self) -> CarriedConversation:
        with self._lock:
            return self._engine.carried()

    def carry_over(self, carried: CarriedConversation) -> None:
        """Go on with a conversation another process parked (before ``attach``)."""
        with self._lock:
            self._engine.carry_over(carried)

    # ----- inputs --------------------------------------------------------------------------
    @contextmanager
    def _input(self) -> Iterator[bool]:
        """Under the lock: whether the session takes inputs. A bug met is reported; it goes on."""
        with self._lock:
            try:
                yield self.active
            except (ConnectionError, OSError):
                raise
            except Exception as exc:  # noqa: BLE001 - one input must not end the conversation
                self._bugs.report(exc)
                self._emit(ErrorNotice(INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, retryable=True))

    def start_listening(self) -> None:
        with self._input() as active:
            if active and not self._listening:
                self._listening = True
                self._warned_not_listening = False
                self._front.reset()
                self._interpreter.run(self._engine.start(self._now()))

    def stop_listening(self) -> None:
        with self._input() as active:
            if active:
                self._stop_listening()

    def _stop_listening(self) -> None:
        self._listening = False
        self._interpreter.run(self._engine.stop(self._now()))
        self._front.reset()

    def engine_step(self, step: Callable[[TurnEngine, float], list[Any]]) -> None:
        """An input the engine alone decides on, ``step(engine, now)``, when active."""
        with self._input() as active:
            if active:
                self._interpreter.run(step(self._engine, self._now()))

    def text(self, text: str) -> None:
        self.engine_step(lambda engine, now: engine.text(text.strip(), now))

    def forget(self) -> None:
        """The conversation is deleted: what is said stops, the history goes, the client
        is told once the stored turns are deleted too."""
        with self._input() as active:
            if active:
                self._interpreter.run(self._engine.forget(self._now()))
                self._front.reset()
                if self._listening:  # (the microphone stays on: a fresh conversation goes on)
                    self._interpreter.run(self._engine.start(self._now()))
                self._emit(self._recorder.forget())

    def playback_done(self, turn: int) -> None:
        """The client has played all of ``turn``'s reply."""
        with self._input() as active:
            if active:
                self._front.played(turn)
                self._interpreter.run(self._engine.playback_done(turn, self._now()))

    def playback_progress(self, turn: int, played_ms: float) -> None:
        self.engine_step(lambda engine, _: engine.playback_progress(turn, played_ms))

    def ping(self, t: Any) -> None:
        with self._input() as active:
            if active:
                self._emit(Pong(t))

    def audio(self, pcm: bytes) -> None:
        """Microphone audio: PCM16 mono at 16 kHz, any whole number of samples."""
        batch = VoiceBatch()
        staged = self.stage_audio(pcm, batch)
        batch.run()
        self.hear_audio(staged)

    def stage_audio(self, pcm: bytes, batch: VoiceBatch) -> StagedAudio | None:
        """``audio``'s first step: the speech model's part into ``batch`` (the reader hub's)."""
        try:
            check_pcm16(pcm, self._settings.max_message_bytes)
        except ClientError as exc:
            self.report(exc)
            return None
        with self._input() as active:
            if active and self._listening:
                return self._front.stage(pcm, batch)
            if active and not self._warned_not_listening:
                self._warned_not_listening = True
                self.report(ClientError("not_listening", 'audio ignored: send {"type": "start"} first'))
        return None

    def hear_audio(self, staged: StagedAudio | None) -> None:
        """``audio``'s second step, once the batch has run."""
        with self._input() as active:
            if not active or staged is None:
                return
            engine, run = self._engine, self._interpreter.run
            for heard in self._front.hear_staged(staged):
                now = self._now()
                run(engine.voice_activity(now) if heard is VOICED else engine.segment(heard, now))
            self._tick_now()
            self.ticked_at = time.monotonic()

    def _tick_now(self) -> None:
        self._interpreter.run(self._engine.tick(self._now()))
        options, speech, advice = self._options, self._speech, self._front.advice
        for change in (*options.provider_changes(), *speech.status_changes(), *advice.due()):
            self._emit(change)

    def change_settings(self, data: dict[str, Any]) -> None:
        """The person's own settings: all or, on a problem, none (providers built outside the lock)."""
        with self._lock:
            cue = self._engine.config.cue_audio
        change = self._options.try_prepare(data, cue)
        if isinstance(change, ErrorNotice):
            self._error(change)
            return
        with self._input() as active:
            if not active:
                self._options.discard(change)
                return
            config, applied = self._options.apply(change)
            self._engine.configure(config)
            self._front.configure(change.own.vad_aggressiveness, config.commit_unfinished_ms)
            self._speech.follow_choice()
            self._emit(applied)
        self._speech.reap()

    def tick(self) -> None:
        """Called every few tens of milliseconds by the runtime, audio or not."""
        with self._input() as active:
            if active:
                self._tick_now()

    def try_tick(self) -> bool:
        """``tick`` unless another thread holds the session now (the ticker never waits)."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self.tick()
        finally:
            self._lock.release()
        return True

    def deliver(self, result: JobResult) -> None:
        """A provider call's result (from a worker thread)."""
        with self._input() as active:
            if active:
                self._interpreter.result(result)

    def report(self, error: ClientError) -> None:
        self._error(ErrorNotice(error.code, str(error)))  # what was wrong with a message

    # ----- output --------------------------------------------------------------------------
    def _error(self, notice: ErrorNotice) -> None:
        with self._lock:
            self._emit(notice)

    def _emit(self, event: OutputEvent) -> None:
        for observer in self._observers:
            observer.observe(event)
        self._outbox.put(event, before=self._recorder.gate(event))
