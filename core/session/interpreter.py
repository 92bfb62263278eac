"""Carries out the turn engine's actions, in order, under the session's lock.

Commands go to the provider calls (``TurnJobs``), the audio front or the conversation
recorder; events go to the session's outbox, past the observers (metrics). A result
that comes back at once (a call refused because every worker is busy) is handed to
the engine after the actions already queued, never in the middle of them: the
actions of one decision are carried out as one run, in the order decided.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import get_args

from core.conversation.commands import (
    Action,
    Cancel,
    DropTranscription,
    EndSegment,
    EndSpeech,
    Generate,
    JudgeEnd,
    Prepare,
    Record,
    Speak,
    Transcribe,
)
from core.conversation.endpointing import worth_weighing
from core.conversation.engine import TurnEngine
from core.conversation.events import OutputEvent
from core.conversation.results import JobFailed, JobResult
from core.providers.registry import Providers
from core.session.audio_front import AudioFront
from core.session.recorder import TurnRecorder
from core.session.speech_turns import SPEECH, SpeechTurns
from core.session.turn_jobs import TurnJobs

_RESULT_TYPES = get_args(JobResult)


class ActionInterpreter:
    def __init__(self, engine: TurnEngine, jobs: TurnJobs, front: AudioFront, recorder: TurnRecorder,
                 providers: Callable[[], Providers], emit: Callable[[OutputEvent], None],
                 now: Callable[[], float], speech: SpeechTurns) -> None:
        self._engine = engine
        self._jobs = jobs
        self.speech = speech  # a speech-to-speech API's turns (when one is chosen)
        self._front = front
        self._recorder = recorder
        self._providers = providers
        self._emit = emit
        self._now = now
        self._pending: deque[Action | JobResult] = deque()
        self._running = False

    def run(self, actions: list[Action]) -> None:
        """Carry out ``actions`` (and whatever they lead to) before returning; called again
        from within a run (a re-entrant lock), it only queues them."""
        self._pending.extend(actions)
        if self._running:
            return
        self._running = True
        try:
            while self._pending:
                self._carry_out(self._pending.popleft())
        except BaseException:
            self._pending.clear()  # what a failed run decided is not carried out later
            raise
        finally:
            self._running = False

    def result(self, result: JobResult) -> None:
        """A provider call's result, for the engine (in its turn, after queued actions)."""
        self.run([result])  # type: ignore[list-item]

    def _carry_out(self, item: Action | JobResult) -> None:
        if isinstance(item, OutputEvent):
            self._emit(item)
        elif isinstance(item, JobFailed) and item.provider == SPEECH:
            self._jobs.settled(item)
            failure = self.speech.fall_back(self._providers().llm, item)
            if failure is not None:
                self._pending.extend(self._engine.job_done(failure, self._now()))
        elif isinstance(item, _RESULT_TYPES):
            self._jobs.settled(item)  # type: ignore[arg-type]
            self._pending.extend(self._engine.job_done(item, self._now()))  # type: ignore[arg-type]
        elif isinstance(item, Transcribe):
            weigh = self._weigher() if item.weigh else None
            self.speech.heard(item.job, item.audio)
            self._later(self._jobs.transcribe(self._providers().stt, item.job, item.audio, weigh))
        elif isinstance(item, JudgeEnd):
            self._later(self._jobs.judge_end(item.job, item.audio))
        elif isinstance(item, DropTranscription):
            self._jobs.drop_transcription(item.job)
        elif isinstance(item, Generate):
            self._later(self.speech.generate(self._providers().llm, item))
        elif isinstance(item, Prepare):
            self._jobs.prepare(self._providers().llm, item.history)
        elif isinstance(item, Speak):
            self._later(self.speech.speak(self._providers().tts, item.turn, item.text))
        elif isinstance(item, EndSpeech):
            self.speech.end_speech(item.turn)
        elif isinstance(item, Cancel):
            self.speech.cancel(item.turn, item.heard_ms)
        elif isinstance(item, EndSegment):
            self._front.end_segment()
        elif isinstance(item, Record):
            notice = self._recorder.record(item)
            if notice is not None:
                self._emit(notice)

    def _weigher(self) -> Callable[[str], float | None]:
        """The replies model's view of a pause's words, in the conversation so far; asked
        only where it can change the wait (``worth_weighing``)."""
        llm, history = self._providers().llm, self._engine.history
        return lambda words: llm.line_ends_here(history, words) if worth_weighing(words) else None

    def _later(self, result: JobResult | None) -> None:
        if result is not None:
            self._pending.append(result)
