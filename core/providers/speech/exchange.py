"""Which answer of the API belongs to which of the app's turns, and what to do with
each thing the API says: pure bookkeeping (no socket, no thread, the time given).

Every turn sent becomes an ``Answer``. The OpenAI Realtime API names each response when
it begins (``Began``), which binds it to the oldest turn still waiting; the Gemini Live
API answers in order without names, so a turn's answer is named here when it is sent.
Audio and text of a cancelled answer are dropped (``CancelledResponses``); one that goes
quiet past the response timeout is given up (a stall) and its turn told so.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from itertools import count

from core.providers.base import Message
from core.providers.speech.base import (
    SpeechAudio,
    SpeechDone,
    SpeechEvent,
    SpeechFailed,
    SpeechHeard,
    SpeechText,
)
from core.providers.speech.cancelled import KEPT, CancelledResponses
from core.providers.speech.common import Malformed, Other
from core.providers.speech.dialect import Began, Dialect, Finished, Heard, Refused, Said, Step, Voice

HISTORY_KEPT = 12  # messages of the conversation a new session is told about
# Error codes that only say a cancel came too late (the response had ended): no harm.
HARMLESS_ERRORS = ("response_cancel_not_active", "cancel_not_active")


@dataclass
class Answer:
    turn: int
    asked_at: float
    last_at: float  # when it was asked, or its last event
    response_id: str | None = None
    item_id: str | None = None
    spoken_ms: float = 0.0  # its audio handed on so far
    text: list[str] = field(default_factory=list)
    finished: bool = False
    cancelled: bool = False


@dataclass
class Counters:
    malformed: int = 0
    ignored: int = 0
    stalls: int = 0
    errors: int = 0


Outcome = tuple[list[SpeechEvent], list[str]]  # events for the session, messages for the API


class Exchange:
    def __init__(self, dialect: Dialect, response_timeout_s: float) -> None:
        self._dialect = dialect
        self._timeout_s = response_timeout_s
        self._answers: OrderedDict[int, Answer] = OrderedDict()  # by turn, oldest first
        self._unnamed: deque[Answer] = deque(maxlen=KEPT)  # sent; their response not begun yet
        self._by_response: dict[str, Answer] = {}
        self._own_names = count(1)
        self.cancelled = CancelledResponses()
        self.counters = Counters()
        self.history: deque[Message] = deque(maxlen=HISTORY_KEPT)
        self._hearing: deque[int] = deque(maxlen=KEPT)  # spoken turns whose words the API is transcribing
        self._heard: list[str] = []  # the pieces of the latest one's words so far (Gemini's stream)

    # ----- what the app does ---------------------------------------------------------------
    def asked(self, turn: int, text: str, now: float, spoken: bool = False) -> None:
        """``turn`` was sent (``spoken``: as audio, whose words the API transcribes)."""
        answer = Answer(turn, now, now)
        if spoken:
            self._hearing.append(turn)
            self._heard = []
        self._answers[turn] = answer
        while len(self._answers) > KEPT:
            _, old = self._answers.popitem(last=False)
            if old.response_id is not None:
                self._by_response.pop(old.response_id, None)
        if text:
            self.history.append(Message("user", text))
        if self._dialect.names_responses:
            self._unnamed.append(answer)
        else:
            self._name(answer, f"own-{next(self._own_names)}")

    def cancel(self, turn: int, heard_ms: float | None) -> list[str]:
        """The messages that stop ``turn``'s answer and cut it at ``heard_ms`` (None: not cut)."""
        answer = self._answers.get(turn)
        if answer is None:
            return []
        first = not answer.cancelled
        answer.cancelled = True
        if answer.response_id is not None:
            self.cancelled.cancel(answer.response_id)
        running = answer.response_id if first and not answer.finished else None
        heard = None if heard_ms is None else round(max(0.0, min(heard_ms, answer.spoken_ms)))
        if heard is not None:
            self._cut_reply(answer, heard)
        return self._dialect.stop(running, answer.item_id, heard)

    # ----- what the API says ---------------------------------------------------------------
    def read(self, steps: list[Step], now: float) -> Outcome:
        events: list[SpeechEvent] = []
        messages: list[str] = []
        for step in steps:
            if isinstance(step, Began):
                messages += self._began(step.response_id, now)
            elif isinstance(step, Voice | Said):
                events += self._content(step, now)
            elif isinstance(step, Finished):
                events += self._finished(step, now)
            elif isinstance(step, Refused):
                events += self._refused(step, now)
            elif isinstance(step, Heard):
                events += self._words(step.text)
            elif isinstance(step, Malformed):
                self.counters.malformed += 1
            elif isinstance(step, Other):
                self.counters.ignored += 1
        return events, messages

    def _words(self, text: str) -> list[SpeechEvent]:
        """The person's words as the API heard them: OpenAI's one event per turn sent, in
        order; Gemini's pieces of the latest turn, as they come."""
        if not self._hearing:
            return []
        if self._dialect.names_responses:
            return [SpeechHeard(self._hearing.popleft(), text.strip())]
        self._heard.append(text)
        return [SpeechHeard(self._hearing[-1], "".join(self._heard).strip())]

    def _name(self, answer: Answer, response_id: str) -> None:
        answer.response_id = response_id
        self._by_response[response_id] = answer
        if answer.cancelled:
            self.cancelled.cancel(response_id)

    def _began(self, response_id: str, now: float) -> list[str]:
        if not self._unnamed:
            return []  # a response the app did not ask for: its content is dropped
        answer = self._unnamed.popleft()
        self._name(answer, response_id)
        answer.last_at = now
        return self._dialect.stop(response_id, None, None) if answer.cancelled else []

    def _owner(self, response_id: str | None) -> Answer | None:
        if response_id is None:  # answers in order: the oldest one not finished
            return next((a for a in self._answers.values() if not a.finished), None)
        return self._by_response.get(response_id)

    def _content(self, step: Voice | Said, now: float) -> list[SpeechEvent]:
        answer = self._owner(step.response_id)
        if answer is None or answer.cancelled or answer.finished:
            self.cancelled.late_deltas += 1  # a cancelled (or unknown) response's late content
            return []
        answer.last_at = now
        if isinstance(step, Said):
            answer.text.append(step.text)
            return [SpeechText(answer.turn, step.text)]
        answer.item_id = answer.item_id or step.item_id or None
        answer.spoken_ms += len(step.pcm) / 2 / step.sample_rate * 1000.0
        return [SpeechAudio(answer.turn, step.pcm, step.sample_rate)]

    def _finished(self, step: Finished, now: float) -> list[SpeechEvent]:
        answer = self._owner(step.response_id)
        if answer is None or answer.finished:
            return []
        answer.finished, answer.last_at = True, now
        if answer.cancelled:
            return []
        if answer.text:
            self.history.append(Message("assistant", "".join(answer.text).strip()))
        if step.status in ("completed", "incomplete") or answer.spoken_ms:
            return [SpeechDone(answer.turn)]
        return [self._failed(answer, f"the answer ended as {step.status}", retryable=True)]

    def _refused(self, step: Refused, now: float) -> list[SpeechEvent]:
        if any(code in step.code for code in HARMLESS_ERRORS):
            return []
        self.counters.errors += 1
        answer = next((a for a in self._answers.values() if not a.finished and not a.cancelled), None)
        if answer is None:
            return []
        retryable = "rate" in step.code or "server" in step.code or "exhausted" in step.code.lower()
        return [self._failed(answer, f"{step.code}: {step.message[:200]}", retryable)]

    def _failed(self, answer: Answer, message: str, retryable: bool) -> SpeechFailed:
        answer.cancelled = True
        if answer in self._unnamed:  # (a later response must not be taken for its)
            self._unnamed.remove(answer)
        if answer.response_id is not None:
            self.cancelled.cancel(answer.response_id)
        return SpeechFailed(answer.turn, message, retryable, spoke=answer.spoken_ms > 0)

    def _cut_reply(self, answer: Answer, heard_ms: int) -> None:
        """The conversation a new session is told about holds only what was heard of it
        (its share of the text, as its share of the audio)."""
        said = "".join(answer.text).strip()
        if not said:
            return
        kept = said[: round(len(said) * heard_ms / answer.spoken_ms)].strip() if answer.spoken_ms else ""
        cut = f"{kept} …" if kept else ""
        if not answer.finished:
            if cut:
                self.history.append(Message("assistant", cut))
            return
        for index in range(len(self.history) - 1, -1, -1):
            if self.history[index] == Message("assistant", said):
                if cut:
                    self.history[index] = Message("assistant", cut)
                else:
                    del self.history[index]
                return

    # ----- time and the socket --------------------------------------------------------------
    def overdue(self, now: float) -> Outcome:
        """Answers quiet for longer than the response timeout: given up, each turn told."""
        events: list[SpeechEvent] = []
        messages: list[str] = []
        for answer in self._answers.values():
            if answer.finished or answer.cancelled or now - answer.last_at < self._timeout_s:
                continue
            self.counters.stalls += 1
            events.append(self._failed(answer, f"no answer for {self._timeout_s:g} s", retryable=True))
            messages += self._dialect.stop(answer.response_id, None, None)
        return events, messages

    def busy(self) -> bool:
        return any(not a.finished and not a.cancelled for a in self._answers.values())

    def dropped(self, why: str) -> list[SpeechEvent]:
        """The socket is gone: every answer under way fails; the next session starts afresh."""
        events: list[SpeechEvent] = [self._failed(answer, f"connection lost: {why}", retryable=True)
                                     for answer in self._answers.values()
                                     if not answer.finished and not answer.cancelled]
        for answer in self._answers.values():
            answer.finished = True
            answer.item_id = None  # (an item of the lost session: nothing to truncate in the next)
        self._unnamed.clear()
        self._hearing.clear()
        return events
