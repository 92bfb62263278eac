"""After a drop, the listener, connecting and closing: the live conversation with each
API's stand-in (``core.providers.speech.live``)."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from core.providers.base import Message, ProviderError
from core.providers.speech.base import SpeechDone, SpeechEvent, SpeechFailed, SpeechText
from core.providers.speech.gemini_live import GeminiLive
from core.providers.speech.live import LiveConversation, SpeechTimings
from core.providers.speech.openai_realtime import OpenAIRealtime
from monitoring.servers.speech.faults import Fault
from monitoring.servers.speech.standin import SpeechStandIn
from tests.support import speech_talk
from tests.support.speech_talk import (
    TIMINGS,
    Heard,
    Talk,
    answered,
    dialect_for,
    speech_16k,
    speech_threads,
    wait_until,
)

api, talk = speech_talk.api, speech_talk.talk  # the fixtures: each API's stand-in, conversations on it


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


@contextmanager
def raw_api(serve: Callable[[socket.socket], None]) -> Iterator[tuple[str, list[socket.socket]]]:
    """A made-up API on 127.0.0.1 whose every connection ``serve`` answers (on a thread of
    its own): its address, and the connections it took (all closed after)."""
    accepted: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.settimeout(0.05)  # (its thread looks whether the test is over)

        def take() -> None:
            while listener.fileno() != -1:
                try:
                    peer, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return  # (the listener was closed)
                accepted.append(peer)
                serve(peer)

        server = threading.Thread(target=take, daemon=True)
        server.start()
        try:
            yield f"ws://127.0.0.1:{listener.getsockname()[1]}/v1/realtime", accepted
        finally:
            listener.close()
            for peer in accepted:
                peer.close()
            server.join(timeout=2)


def set_up_then_mute(peer: socket.socket) -> None:
    """Sets the session up and then goes quiet for good: no events, no pongs (a peer gone
    without closing its connection)."""
    request = b""
    while b"\r\n\r\n" not in request:
        request += peer.recv(4096)
    key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key"))
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    peer.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    ready = json.dumps({"type": "session.updated", "session": {}}).encode()
    peer.sendall(bytes([0x81, len(ready)]) + ready)  # one unmasked text frame


def refuse_the_key(peer: socket.socket) -> None:
    peer.recv(4096)
    peer.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_a_socket_that_hears_nothing_not_even_a_pong_is_given_up_and_made_again() -> None:
    heard = Heard()
    timings = SpeechTimings(ping_every_s=0.1, dead_after_s=0.5, backoff_s=(0.05,))
    with raw_api(set_up_then_mute) as (url, accepted):
        dialect = OpenAIRealtime(url, "sk-test", "m", "v")
        conversation = LiveConversation(dialect, "Be brief.", (), heard, timings)
        try:
            assert wait_until(lambda: conversation.state().state == "ready")
            assert wait_until(lambda: conversation.state().reconnects >= 1, 2.0), conversation.state()
            assert wait_until(lambda: len(accepted) >= 2)  # a new connection was made
        finally:
            conversation.close()
    assert speech_threads() == []


def test_a_refused_key_is_not_tried_again_and_turns_are_refused_at_once() -> None:
    heard = Heard()
    timings = SpeechTimings(backoff_s=(0.05,))
    with raw_api(refuse_the_key) as (url, accepted):
        dialect = OpenAIRealtime(url, "sk-bad", "m", "v")
        conversation = LiveConversation(dialect, "Be brief.", (), heard, timings)
        try:
            assert wait_until(lambda: conversation.state().state == "refused"), conversation.state()
            with pytest.raises(ProviderError, match="refused"):
                conversation.respond(1, None, "Hello?")
            assert not wait_until(lambda: len(accepted) > 1, 0.5)  # (backoff 0.05 s: it would have)
        finally:
            conversation.close()
    assert speech_threads() == []


def test_gemini_asking_to_move_on_is_followed_once_idle_with_the_session_resumed() -> None:
    """The Live API says ``goAway`` before it ends a session: the conversation opens a new
    one as soon as no answer is under way, with the latest resumption handle."""
    heard = Heard()
    with SpeechStandIn("gemini-live", pace=4.0, reply_s=1.0) as gemini:
        conversation = LiveConversation(dialect_for(gemini), "Be brief.", (), heard, TIMINGS)
        try:
            assert wait_until(lambda: conversation.state().state == "ready")
            gemini.go_away = True
            assert isinstance(answered(conversation, heard, 1)[-1], SpeechDone)
            assert wait_until(lambda: gemini.record.connections == 2
                              and conversation.state().state == "ready")
            assert gemini.record.resumed_with[0] is None
            assert (gemini.record.resumed_with[1] or "").startswith("handle-")
            assert isinstance(answered(conversation, heard, 2)[-1], SpeechDone)
        finally:
            conversation.close()
    assert conversation.state().reconnects == 1
