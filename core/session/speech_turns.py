"""A session's replies from a speech-to-speech API, with the chained providers behind it.

The app keeps the turn-taking: its own recognizer takes the turn (the words set the end
of it), the engine decides, and a committed turn's ``Generate`` goes to the API with the
turn's audio instead of to the LLM. What the API says comes back as the results the
chained providers give (``ReplyPiece`` for its transcript, ``SpeechChunk`` for its
audio, ``ReplyEnded`` + ``SpeechEnded`` when done), so playback, barge-in, the store and
the metrics work the same. A barge-in's ``Cancel`` stops the API's answer and cuts it at
what was heard. When the API cannot take a turn, or fails one before a word of it was
heard, the turn is answered by the chained LLM and TTS, and the person is told.

Audio of a speech turn needs no ``Speak``: the engine's sentences are counted, so each
piece of audio is placed in the sentence its transcript has reached.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from core.conversation.commands import Generate
from core.conversation.results import JobFailed, Reheard, ReplyEnded, ReplyPiece, SpeechChunk, SpeechEnded
from core.metrics import Metrics
from core.providers.base import LLMProvider, Message, ProviderError, TTSProvider
from core.providers.speech.base import (
    SpeechAudio,
    SpeechConversation,
    SpeechDone,
    SpeechEvent,
    SpeechFailed,
    SpeechHeard,
    SpeechProvider,
    SpeechState,
    SpeechText,
)
from core.session.events import ProviderStatusChanged
from core.session.turn_jobs import Deliver, TurnJobs

log = logging.getLogger(__name__)

SPEECH = "speech"  # ``JobFailed.provider`` of a failure of the speech-to-speech API
KEPT = 8  # recent turns' audio and state; a turn older than that has long been answered
# The connection's counters the admin page shows (``speech:<name>``), as they rise.
COUNTED = ("reconnects", "malformed", "ignored", "late_deltas", "stalls", "errors")


class SpeechChoice(Protocol):
    """The session's choice (its ``SessionOptions``): the provider, and what it is told."""

    speech: SpeechProvider | None

    def instructions(self) -> str: ...


class SpeechTurns:
    def __init__(self, jobs: TurnJobs, deliver: Deliver, history: Callable[[], tuple[Message, ...]],
                 choice: SpeechChoice, metrics: Metrics) -> None:
        self._jobs = jobs
        self._metrics = metrics
        self._counted: dict[str, int] = {}  # the conversation's counters as last counted
        self._deliver = deliver
        self._history = history
        self._choice = choice
        self._provider: SpeechProvider | None = None
        self._conversation: SpeechConversation | None = None
        self._stopping: list[SpeechConversation] = []  # closed under the lock, joined outside it
        self._audio: OrderedDict[int, bytes] = OrderedDict()  # the person's audio, by transcription job
        self._asked: OrderedDict[int, Generate] = OrderedDict()  # turns the API is answering
        self._sentences: dict[int, int] = {}  # sentences the engine has of each speech turn
        self._spoke: set[int] = set()  # turns some of whose answer was handed on
        self._state = "off"
        self.follow_choice()

    @property
    def on(self) -> bool:
        return self._provider is not None

    # ----- the provider ---------------------------------------------------------------------
    def follow_choice(self) -> None:
        """Answer with the chosen provider from now on (None: the chained providers only);
        its conversation opens now (it connects on its own thread)."""
        provider = self._choice.speech
        if provider is self._provider and (provider is None or self._conversation is not None):
            return
        self.stop()
        self._provider = provider
        self._counted = {}
        if provider is not None:
            self._conversation = provider.open(self._choice.instructions(), self._history(), self._heard)

    def clear(self) -> None:
        """Stop everything (the session is closing or detaching)."""
        self._jobs.clear()
        self.stop()

    def stop(self) -> None:
        """Close the conversation (called under the session's lock: joined by ``reap``)."""
        conversation, self._conversation = self._conversation, None
        if conversation is not None:
            self._stopping.append(conversation)
        self._asked.clear()

    def reap(self) -> None:
        """Join conversations stopped before; never under the session's lock (their threads
        may be waiting for it to hand on a last event)."""
        stopping, self._stopping = self._stopping, []
        for conversation in stopping:
            conversation.close()

    def status_changes(self) -> list[ProviderStatusChanged]:
        """The API's connection went down (the chained providers answer) or came back."""
        provider, conversation = self._provider, self._conversation
        state = "off"
        if provider is not None and conversation is not None:
            now = conversation.state()
            self._count(now)
            state = now.state
        state = "fallback" if state in ("reconnecting", "down") else state
        if state == self._state or state == "connecting":
            return []
        before, self._state = self._state, state
        if provider is None or (before == "off" and state == "ready"):
            return []
        if state == "refused":
            return [ProviderStatusChanged(SPEECH, provider.name, "chained", "fallback",
                                          f"{provider.name} refused the API key; answering with the "
                                          "chained providers (check the key in the settings)")]
        if state == "fallback":
            return [ProviderStatusChanged(SPEECH, provider.name, "chained", "fallback",
                                          f"{provider.name} is unreachable; answering with the "
                                          "chained providers while it reconnects")]
        return [ProviderStatusChanged(SPEECH, provider.name, provider.name, "closed",
                                      f"{provider.name} is back")]

    def _count(self, state: SpeechState) -> None:
        for name in COUNTED:
            value = getattr(state, name)
            if value > self._counted.get(name, 0):
                self._metrics.count(f"speech:{name}", value - self._counted.get(name, 0))
                self._counted[name] = value

    # ----- commands ---------------------------------------------------------------------------
    def heard(self, job: int, audio: bytes) -> None:
        """The audio of transcription ``job`` (the turn it becomes is sent with it)."""
        if self.on:
            self._audio[job] = audio
            while len(self._audio) > KEPT:
                self._audio.popitem(last=False)

    def generate(self, llm: LLMProvider, action: Generate) -> JobFailed | None:
        conversation = self._conversation
        if conversation is None:
            return self._jobs.generate(llm, action)
        audio = self._audio.pop(action.job, None) if action.job is not None else None
        refused = self._jobs.over_budget(action.turn)  # (an API's answers spend the same budget)
        if refused is not None:
            return refused
        try:
            conversation.respond(action.turn, audio, action.text)
        except ProviderError as exc:
            return self._chained(llm, action, str(exc))
        self._asked[action.turn] = action
        self._sentences[action.turn] = 0
        while len(self._asked) > KEPT:
            old, _ = self._asked.popitem(last=False)
            self._sentences.pop(old, None)
            self._spoke.discard(old)
        return None

    def speak(self, tts: TTSProvider, turn: int, text: str) -> JobFailed | None:
        if turn in self._asked:
            self._sentences[turn] += 1  # its audio comes from the API
            return None
        return self._jobs.speak(tts, turn, text)

    def end_speech(self, turn: int) -> None:
        if turn not in self._asked:
            self._jobs.end_speech(turn)

    def cancel(self, turn: int, heard_ms: float | None) -> None:
        self._jobs.cancel(turn)
        if turn in self._asked and self._conversation is not None:
            self._conversation.cancel(turn, heard_ms)

    def fall_back(self, llm: LLMProvider, failure: JobFailed) -> JobFailed | None:
        """A speech turn failed: the chained providers answer it when none of it was heard
        (the failure goes to the engine otherwise: the reply ends where it broke)."""
        turn = failure.turn
        action = self._asked.pop(turn, None) if turn is not None else None
        if action is None or turn in self._spoke or self._jobs.is_cancelled(action.turn):
            return failure
        self._sentences.pop(action.turn, None)
        return self._chained(llm, action, failure.message)

    def _chained(self, llm: LLMProvider, action: Generate, why: str) -> JobFailed | None:
        """The turn answered by the chained LLM (and TTS) instead of the API."""
        log.info("turn %d answered by the chained providers: %s", action.turn, why)
        self._metrics.count("speech:fallbacks")
        return self._jobs.generate(llm, action)

    # ----- what the API says (on its conversation's thread) -------------------------------
    def _heard(self, event: SpeechEvent) -> None:
        deliver = self._deliver
        if isinstance(event, SpeechAudio):
            self._spoke.add(event.turn)
            sentence = max(0, self._sentences.get(event.turn, 1) - 1)
            deliver(SpeechChunk(event.turn, sentence, event.pcm, event.sample_rate))
        elif isinstance(event, SpeechText):
            self._spoke.add(event.turn)  # (the chained providers would say it all again)
            self._jobs.spend(max(1, len(event.text.split())))
            deliver(ReplyPiece(event.turn, event.text))
        elif isinstance(event, SpeechHeard):
            deliver(Reheard(event.turn, event.text))
        elif isinstance(event, SpeechDone):
            self._metrics.count("speech:answered")
            deliver(ReplyEnded(event.turn))
            deliver(SpeechEnded(event.turn))
        elif isinstance(event, SpeechFailed):
            if event.spoke:
                self._spoke.add(event.turn)
            deliver(JobFailed(event.turn, None, event.message, event.retryable, SPEECH))
