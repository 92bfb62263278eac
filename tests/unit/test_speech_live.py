"""One session's conversation with a speech-to-speech API over a WebSocket
(``core.providers.speech.live``), against the in-process stand-in of each API: turns
answered, the person's audio sent at the API's rate, every misbehaviour the stand-in
knows survived, reconnecting after a drop with the conversation so far, and threads
joined on close. Waits poll a condition with a deadline; nothing sleeps in place of one."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from core.providers.base import Message, ProviderError
from core.providers.speech.base import SpeechAudio, SpeechDone, SpeechEvent, SpeechFailed, SpeechText
from core.providers.speech.dialect import Dialect
from core.providers.speech.gemini_live import GeminiLive
from core.providers.speech.live import LiveConversation, SpeechTimings
from core.providers.speech.openai_realtime import OpenAIRealtime
from monitoring.servers.speech.faults import Fault
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


# ----- answers ------------------------------------------------------------------------------------
def test_a_turn_is_answered_with_audio_and_words_then_done(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    events = answered(conversation, heard, 1)
    assert isinstance(events[-1], SpeechDone) and len([e for e in events if isinstance(e, SpeechDone)]) == 1
    pieces = [e for e in events[:-1] if isinstance(e, SpeechAudio)]
    assert len(pieces) >= 2 and all(p.sample_rate == 24_000 for p in pieces)
    assert isinstance(events[0], SpeechAudio) and len(audio_of(events)) == REPLY_BYTES
    words = "".join(e.text for e in events if isinstance(e, SpeechText))
    assert "answer 1 from the stand-in" in words and "weather" in words
    assert all(isinstance(e, SpeechAudio | SpeechText) for e in events[:-1])
    state = conversation.state()
    counters = (state.reconnects, state.malformed, state.late_deltas, state.stalls, state.errors)
    assert state.state == "ready" and counters == (0, 0, 0, 0, 0)
    assert answered(conversation, heard, 2, "And tomorrow?")[-1] == SpeechDone(2)  # the socket stays open
    assert api.record.connections == 1


def test_the_persons_audio_is_sent_at_the_apis_rate(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    spoken = speech_16k(1.0)  # 32,000 bytes at 16 kHz
    assert answered(conversation, heard, 1, "", spoken)[-1] == SpeechDone(1)
    received = api.record.heard_bytes[-1]
    if api.dialect == "openai-realtime":  # resampled to 24 kHz
        assert abs(received - 1.5 * len(spoken)) <= 0.01 * len(spoken)
    else:  # 16 kHz, as it was
        assert received == len(spoken)


# ----- misbehaviours ------------------------------------------------------------------------------
def test_late_audio_of_a_cancelled_answer_is_dropped(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    api.reply_s = 2.0  # (room for the cancel to arrive mid-answer)
    api.plan(Fault.LATE_DELTAS)
    cut_after: list[int] = []

    def cancel_at_first_audio(event: SpeechEvent) -> None:
        if isinstance(event, SpeechAudio) and event.turn == 1 and not cut_after:
            cut_after.append(len(heard.timed()))
            conversation.cancel(1, None)  # (from the listener, as a session's barge-in may)

    heard.hook = cancel_at_first_audio
    conversation.respond(1, None, "Tell me a long story.")
    assert wait_until(lambda: conversation.state().late_deltas >= 5), conversation.state()
    if api.dialect == "openai-realtime":  # told to stop, it went on for a while
        assert wait_until(lambda: api.record.late_sent >= 5)
        assert len(api.record.cancels) == 1
    after_cancel = [e for _, e in heard.timed()[cut_after[0]:] if e.turn == 1]
    assert after_cancel == []  # no audio, no words, no end
    assert len(heard.events(1)) == 1
    api.reply_s = 1.0
    assert answered(conversation, heard, 2, "Never mind.")[-1] == SpeechDone(2)
    assert not [e for _, e in heard.timed()[cut_after[0]:] if e.turn == 1]


def test_an_event_of_an_unknown_type_is_counted_and_the_answer_completes(api: SpeechStandIn,
                                                                         talk: Talk) -> None:
    conversation, heard = talk()
    before = conversation.state().ignored
    assert answered(conversation, heard, 1)[-1] == SpeechDone(1)
    usual = conversation.state().ignored - before  # what a plain turn brings that the app does not use
    api.plan(Fault.UNKNOWN_EVENT)
    events = answered(conversation, heard, 2)
    assert events[-1] == SpeechDone(2) and len(audio_of(events)) == REPLY_BYTES
    assert conversation.state().ignored - before == 2 * usual + 1
    assert conversation.state().malformed == 0


def test_malformed_messages_are_counted_and_the_answer_completes(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    api.plan(Fault.MALFORMED)
    events = answered(conversation, heard, 1)
    assert events[-1] == SpeechDone(1) and len(audio_of(events)) == REPLY_BYTES
    state = conversation.state()
    assert state.malformed == 2 and state.state == "ready"  # not JSON; audio it could not read
    assert answered(conversation, heard, 2)[-1] == SpeechDone(2)


def test_a_stalled_answer_fails_about_the_timeout_after_it_went_quiet(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    api.plan(Fault.STALL)
    conversation.respond(1, None, "Hello?")
    assert wait_until(lambda: heard.ended(1))
    timed = [(at, e) for at, e in heard.timed() if e.turn == 1]
    failed_at, failed = timed[-1]
    assert isinstance(failed, SpeechFailed) and failed.spoke and failed.retryable
    last_audio_at = max(at for at, e in timed if isinstance(e, SpeechAudio))
    quiet = failed_at - last_audio_at
    assert TIMINGS.response_timeout_s - 0.05 <= quiet <= TIMINGS.response_timeout_s + 1.0, quiet
    assert conversation.state().stalls == 1
    assert answered(conversation, heard, 2, "Are you there?")[-1] == SpeechDone(2)
    assert [e for e in heard.events(1) if isinstance(e, SpeechFailed)] == [failed]  # failed once
    assert conversation.state().stalls == 1


def test_a_rate_limited_turn_fails_without_audio_and_the_next_is_answered(api: SpeechStandIn,
                                                                          talk: Talk) -> None:
    conversation, heard = talk()
    api.plan(Fault.RATE_LIMIT)
    events = answered(conversation, heard, 1)
    assert len(events) == 1 and isinstance(events[0], SpeechFailed)
    assert events[0].retryable and not events[0].spoke
    if api.dialect == "openai-realtime":  # an error event, the socket stays
        assert "rate_limit_exceeded" in events[0].message and conversation.state().errors == 1
        assert conversation.state().reconnects == 0
    else:  # the Live API closes the socket (1011)
        assert "RESOURCE_EXHAUSTED" in events[0].message and conversation.state().reconnects == 1
        assert wait_until(lambda: conversation.state().state == "ready")
    assert answered(conversation, heard, 2)[-1] == SpeechDone(2)


def test_a_dropped_socket_fails_the_turn_and_is_made_again(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    assert answered(conversation, heard, 1)[-1] == SpeechDone(1)
    seen: list[str] = []
    refusals: list[ProviderError] = []

    def at_the_failure(event: SpeechEvent) -> None:
        if isinstance(event, SpeechFailed):
            seen.append(conversation.state().state)
            try:
                conversation.respond(99, None, "while it reconnects")
            except ProviderError as exc:
                refusals.append(exc)

    heard.hook = at_the_failure
    api.plan(Fault.DROP)
    events = answered(conversation, heard, 2)
    failed = events[-1]
    assert isinstance(failed, SpeechFailed) and failed.spoke and failed.retryable
    assert "connection lost" in failed.message
    assert seen == ["reconnecting"]
    assert len(refusals) == 1 and refusals[0].retryable and "reconnecting" in str(refusals[0])
    assert wait_until(lambda: conversation.state().state == "ready")
    assert conversation.state().reconnects == 1 and api.record.connections == 2
    heard.hook = None
    assert answered(conversation, heard, 3)[-1] == SpeechDone(3)
    assert heard.events(99) == []  # the refused turn was never asked
    assert [e for e in heard.events(2) if isinstance(e, SpeechFailed)] == [failed]


class RecordsOpenings:
    """A dialect that keeps each session opening it makes (the stand-in records only the
    types of the messages it gets, not the instructions in them)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.openings: list[dict[str, Any]] = []

    def opening(self, instructions: str, history: tuple[Message, ...], handle: str | None) -> list[str]:
        messages: list[str] = super().opening(instructions, history, handle)  # type: ignore[misc]
        self.openings.append(json.loads(messages[0]))
        return messages


class RecordedOpenAI(RecordsOpenings, OpenAIRealtime):
    pass


class RecordedGemini(RecordsOpenings, GeminiLive):
    pass


def instructions_of(opening: dict[str, Any]) -> str:
    if "session" in opening:
        return str(opening["session"]["instructions"])
    return str(opening["setup"]["systemInstruction"]["parts"][0]["text"])


def test_after_a_drop_the_new_session_starts_from_the_conversation_so_far(api: SpeechStandIn,
                                                                         talk: Talk) -> None:
    kind = RecordedOpenAI if api.dialect == "openai-realtime" else RecordedGemini
    dialect = kind(api.url, "sk-test", "test-model", "test-voice")
    before = (Message("user", "Hi there."), Message("assistant", "Hello!"))
    conversation, heard = talk(dialect, history=before)
    first = instructions_of(dialect.openings[0])
    assert first.startswith("Be brief.") and "Person: Hi there.\nYou: Hello!" in first
    words = "".join(e.text for e in answered(conversation, heard, 1) if isinstance(e, SpeechText)).strip()
    api.plan(Fault.DROP)
    assert isinstance(answered(conversation, heard, 2, "And tomorrow?")[-1], SpeechFailed)
    assert wait_until(lambda: conversation.state().state == "ready") and len(dialect.openings) == 2
    again = instructions_of(dialect.openings[1])
    assert again.endswith(f"Person: Hi there.\nYou: Hello!\nPerson: What is the weather like?\nYou: {words}\n"
                          "Person: And tomorrow?")
    if api.dialect == "gemini-live":  # the Live API's session is resumed with its handle
        assert dialect.openings[0]["setup"]["sessionResumption"] == {}
        assert dialect.openings[1]["setup"]["sessionResumption"]["handle"].startswith("handle-")


# ----- the listener, connecting, closing ----------------------------------------------------------
def test_a_listener_that_raises_does_not_end_the_conversation(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()

    def buggy(event: SpeechEvent) -> None:
        if isinstance(event, SpeechText):
            raise RuntimeError("a bug in the session")

    heard.hook = buggy
    assert answered(conversation, heard, 1)[-1] == SpeechDone(1)
    assert answered(conversation, heard, 2)[-1] == SpeechDone(2)
    assert conversation.state().state == "ready"


def test_close_joins_its_threads_and_nothing_comes_after(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    api.reply_s = 2.0
    assert len(speech_threads()) == 2  # the keeper and the reader
    conversation.respond(1, None, "Tell me a story.")
    assert wait_until(lambda: bool(heard.events(1)))
    conversation.close()  # mid-answer
    assert speech_threads() == []
    assert conversation.state().state == "closed"
    count = len(heard.events())
    with pytest.raises(ProviderError, match="closed"):
        conversation.respond(2, None, "Hello?")
    assert len(heard.events()) == count and not heard.ended(1)
    conversation.close()  # (twice: no harm)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_respond_is_refused_at_once_while_the_api_is_down() -> None:
    heard = Heard()
    timings = SpeechTimings(connect_timeout_s=0.5, response_timeout_s=0.5, backoff_s=(0.02, 0.02))
    dialect = OpenAIRealtime(f"ws://127.0.0.1:{free_port()}/v1/realtime", "sk-test", "m", "v")
    conversation = LiveConversation(dialect, "Be brief.", (), heard, timings)
    try:
        assert wait_until(lambda: conversation.state().state == "down"), conversation.state()
        with pytest.raises(ProviderError, match="down") as refused:
            conversation.respond(1, speech_16k(0.2), "Hello?")
        assert refused.value.retryable
    finally:
        conversation.close()
    assert speech_threads() == [] and heard.events() == []


def test_a_turn_asked_while_connecting_fails_when_the_api_cannot_be_reached() -> None:
    heard = Heard()
    timings = SpeechTimings(connect_timeout_s=0.3, response_timeout_s=0.5, backoff_s=(0.05, 0.1))
    with socket.socket() as silent:  # takes connections, never answers the WebSocket handshake
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        dialect = OpenAIRealtime(f"ws://127.0.0.1:{silent.getsockname()[1]}/v1/realtime", "sk-test", "m", "v")
        conversation = LiveConversation(dialect, "Be brief.", (), heard, timings)
        try:
            assert conversation.state().state == "connecting"
            conversation.respond(1, None, "Hello?")  # accepted: sent once connected
            # the API stays out of reach: within about the response timeout the turn should fail
            assert wait_until(lambda: heard.ended(1), 1.5), conversation.state()
        finally:
            conversation.close()
    failed = heard.end(1)
    assert isinstance(failed, SpeechFailed) and failed.retryable and not failed.spoke
