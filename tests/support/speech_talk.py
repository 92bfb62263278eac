"""What the live-conversation tests share (``tests/unit/test_speech_live*.py``): the
stand-in of each API as a fixture, conversations opened on it, a listener that keeps what
it is told, and waits that poll a condition with a deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from core.providers.base import Message
from core.providers.speech.base import SpeechAudio, SpeechDone, SpeechEvent, SpeechFailed
from core.providers.speech.dialect import Dialect
from core.providers.speech.gemini_live import GeminiLive
from core.providers.speech.live import LiveConversation, SpeechTimings
from core.providers.speech.openai_realtime import OpenAIRealtime
from monitoring.servers.speech.standin import SpeechStandIn

APIS = ("openai-realtime", "gemini-live")
TIMINGS = SpeechTimings(response_timeout_s=0.5, backoff_s=(0.05, 0.1))
WAIT_S = 3.0
REPLY_BYTES = 24_000 * 2  # the stand-in's answer: 1 s at 24 kHz (reply_s=1.0)
STAND_IN_THREAD = "speech-standin"  # (the stand-in's own server thread)


def wait_until(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    """Whether ``condition`` came true before the deadline (polled every 10 ms)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class Heard:
    """A listener keeping what the conversation told it, in order, with when; ``hook`` is
    called with each event too (on the conversation's thread, as a session would be)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[tuple[float, SpeechEvent]] = []
        self.hook: Callable[[SpeechEvent], None] | None = None

    def __call__(self, event: SpeechEvent) -> None:
        with self._lock:
            self._events.append((time.monotonic(), event))
        if self.hook is not None:
            self.hook(event)

    def timed(self) -> list[tuple[float, SpeechEvent]]:
        with self._lock:
            return list(self._events)

    def events(self, turn: int | None = None) -> list[SpeechEvent]:
        return [e for _, e in self.timed() if turn is None or e.turn == turn]

    def end(self, turn: int) -> SpeechDone | SpeechFailed | None:
        return next((e for e in self.events(turn) if isinstance(e, SpeechDone | SpeechFailed)), None)

    def ended(self, turn: int) -> bool:
        return self.end(turn) is not None


def audio_of(events: list[SpeechEvent]) -> bytes:
    return b"".join(e.pcm for e in events if isinstance(e, SpeechAudio))


def speech_16k(seconds: float) -> bytes:
    """A 220 Hz tone, PCM16 at 16 kHz (what a session sends)."""
    t = np.arange(int(16_000 * seconds)) / 16_000
    return (np.sin(2 * np.pi * 220 * t) * 8000).astype(np.int16).tobytes()


def dialect_for(api: SpeechStandIn) -> Dialect:
    kind = OpenAIRealtime if api.dialect == "openai-realtime" else GeminiLive
    return kind(api.url, "sk-test", "test-model", "test-voice")


def speech_threads() -> list[str]:
    """Threads of speech conversations still alive (the stand-in's own excepted)."""
    names = [t.name for t in threading.enumerate()]
    return [name for name in names if name.startswith("speech-") and name != STAND_IN_THREAD]


Talk = Callable[..., tuple[LiveConversation, Heard]]


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> Iterator[SpeechStandIn]:
    with SpeechStandIn(request.param, pace=4.0, reply_s=1.0) as stand_in:
        yield stand_in


@pytest.fixture
def talk(api: SpeechStandIn) -> Iterator[Talk]:
    """Opens conversations with the stand-in (ready when returned); all closed after the test."""
    made: list[LiveConversation] = []

    def open_conversation(dialect: Dialect | None = None, history: tuple[Message, ...] = (),
                          timings: SpeechTimings = TIMINGS) -> tuple[LiveConversation, Heard]:
        heard = Heard()
        conversation = LiveConversation(dialect or dialect_for(api), "Be brief.", history, heard, timings)
        made.append(conversation)
        assert wait_until(lambda: conversation.state().state == "ready"), conversation.state()
        return conversation, heard

    yield open_conversation
    for conversation in made:
        conversation.close()


def answered(conversation: LiveConversation, heard: Heard, turn: int, text: str = "What is the weather like?",
             audio: bytes | None = None) -> list[SpeechEvent]:
    """Ask ``turn`` and wait for its end; the events it got."""
    conversation.respond(turn, audio, text)
    assert wait_until(lambda: heard.ended(turn)), (conversation.state(), heard.events(turn)[-3:])
    return heard.events(turn)
