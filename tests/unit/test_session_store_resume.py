"""A session's turns reach the store before the client sees them; detach and resume."""

from __future__ import annotations

import threading
from pathlib import Path

from core.conversation.events import OutputEvent, ReplyDone, Transcript
from core.providers.base import Providers
from core.settings import Settings
from core.store.conversations import ConversationStore
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.session_harness import Harness, SentLog


def send(harness: Harness, **message: object) -> None:
    harness.send(**message)


def stored_harness(tmp_path: Path, tts: FakeTTS | None = None) -> tuple[Harness, ConversationStore]:
    store = ConversationStore(tmp_path / "turns.db")
    settings = Settings().replace(greeting_after_ms=0, vad_neural=False)
    harness = Harness(settings, Providers(FakeSTT(), FakeLLM(), tts or FakeTTS()), store=store)
    harness.session.open()
    return harness, store


def test_a_turn_is_committed_before_the_client_sees_it(tmp_path: Path) -> None:
    h, store = stored_harness(tmp_path)
    seen_in_store: list[list[tuple[str, str]]] = []
    original = h.sent.deliver

    class Checking(SentLog):
        def deliver(self, event: OutputEvent) -> None:
            if isinstance(event, ReplyDone) or (isinstance(event, Transcript) and event.final):
                seen_in_store.append([(t.role, t.text) for t in store.turns(h.session.id)])
            original(event)

    h.session._outbox._port = Checking()  # what the socket would get, checked as it goes out
    try:
        send(h, type="start")
        send(h, type="text", text="what is the capital of france")
        h.sent.wait_event("reply_done", turn=1)
        assert seen_in_store[0][:1] == [("user", "what is the capital of france")]  # at the transcript
        assert seen_in_store[-1] == [("user", "what is the capital of france"),
                                     ("assistant", "Paris is the capital. It is lovely.")]
    finally:
        h.close()
        store.close()


def test_a_reply_stopped_while_playing_is_stored_as_cut(tmp_path: Path) -> None:
    gate = threading.Event()
    h, store = stored_harness(tmp_path, FakeTTS(chunks=3, gate=gate, free_chunks=2))
    try:
        send(h, type="start")
        send(h, type="text", text="tell me about paris")
        h.sent.wait_event("reply_started", turn=1)
        h.sent.wait_for(lambda: len([a for a in h.sent.audio() if a.turn == 1]) >= 2)  # 200 ms sent
        h.clock.now += 0.15  # the person heard 150 ms of the first sentence
        send(h, type="stop")
        gate.set()
        assert store.flush()
        rows = [(t.role, t.text, t.cut) for t in store.turns(h.session.id)]
        assert rows == [("user", "tell me about paris", False),
                        ("assistant", "Paris is the capital. …", True)]
    finally:
        h.close()
        store.close()


def test_a_detached_session_resumes_with_its_history_and_a_new_token(make_harness) -> None:
    h = make_harness()
    send(h, type="start")
    send(h, type="text", text="what is the capital of france")
    h.sent.wait_event("reply_done", turn=1)
    old_token = h.session.resume_token
    assert h.session.worth_resuming
    h.session.detach()
    assert not h.session.active
    send(h, type="text", text="nobody hears this")  # (a late message from the old socket)
    again = SentLog()
    h.session.attach(again)
    ready = again.wait_event("ready")
    assert ready["resumed"] is True and ready["session_id"] == h.session.id
    assert ready["resume_token"] != old_token
    assert [m["role"] for m in ready["history"]] == ["user", "assistant"]
    assert ready["history"][0]["text"] == "what is the capital of france"
    send(h, type="start")
    send(h, type="text", text="and of spain")
    again.wait_event("reply_done", turn=2)
    assert not h.sent.events("transcript")[1:]  # the old socket got nothing after detaching


def test_a_typed_message_over_a_reply_cuts_it_and_keeps_what_was_heard(tmp_path: Path) -> None:
    gate = threading.Event()
    h, store = stored_harness(tmp_path, FakeTTS(chunks=3, gate=gate, free_chunks=2))
    try:
        send(h, type="start")
        send(h, type="text", text="tell me about paris")
        h.sent.wait_event("reply_started", turn=1)
        h.sent.wait_for(lambda: len([a for a in h.sent.audio() if a.turn == 1]) >= 2)  # 200 ms sent
        h.clock.now += 0.15  # the person is hearing it
        send(h, type="text", text="and about london")
        assert h.sent.wait_event("clear", turn=1)["reason"] == "barge_in"  # shown as cut, not dropped
        gate.set()
        h.sent.wait_event("reply_done", turn=2)
        assert store.flush()
        rows = [(t.turn, t.role, t.cut) for t in store.turns(h.session.id)]
        assert rows == [(1, "user", False), (1, "assistant", True), (2, "user", False),
                        (2, "assistant", False)]
    finally:
        h.close()
        store.close()


def test_deleting_the_conversation_forgets_it_and_deletes_what_was_stored(tmp_path: Path) -> None:
    h, store = stored_harness(tmp_path)
    reader = ConversationStore(tmp_path / "turns.db")  # (another reader: the admin page)
    try:
        send(h, type="start")
        send(h, type="text", text="my name is ada")
        h.sent.wait_event("reply_done", turn=1)
        assert reader.turns(h.session.id)
        send(h, type="delete_conversation")
        assert h.sent.wait_event("conversation_deleted")["stored"] is True
        assert reader.turns(h.session.id) == []  # committed before the client was told
        assert [e["state"] for e in h.sent.events("state")][-2:] == ["idle", "listening"]  # mic stays on
        send(h, type="text", text="what is my name")
        h.sent.wait_event("reply_done", turn=2)
        assert store.flush()
        assert [(t.turn, t.role) for t in store.turns(h.session.id)] == [(2, "user"), (2, "assistant")]
        h.session.detach()
        again = SentLog()
        h.session.attach(again)
        history = again.wait_event("ready")["history"]
        assert history[0]["text"] == "what is my name"  # nothing from before
    finally:
        reader.close()
        h.close()
        store.close()


def test_a_reply_cut_by_the_deletion_is_deleted_too(tmp_path: Path) -> None:
    gate = threading.Event()
    h, store = stored_harness(tmp_path, FakeTTS(chunks=3, gate=gate, free_chunks=2))
    try:
        send(h, type="start")
        send(h, type="text", text="tell me about paris")
        h.sent.wait_event("reply_started", turn=1)
        h.clock.now += 0.15
        send(h, type="delete_conversation")
        gate.set()
        h.sent.wait_event("conversation_deleted")
        assert store.flush()
        assert store.turns(h.session.id) == []
        assert h.sent.wait_event("clear", turn=1)["reason"] == "stopped"
    finally:
        h.close()
        store.close()


def test_without_a_store_the_conversation_is_still_forgotten(make_harness) -> None:
    h = make_harness()
    send(h, type="start")
    send(h, type="text", text="my name is ada")
    h.sent.wait_event("reply_done", turn=1)
    send(h, type="delete_conversation")
    assert h.sent.wait_event("conversation_deleted")["stored"] is False
    h.session.detach()
    again = SentLog()
    h.session.attach(again)
    assert again.wait_event("ready")["history"] == []


def test_a_resumed_page_gets_the_whole_stored_conversation_not_only_what_the_model_remembers(
        tmp_path: Path) -> None:
    h, store = stored_harness(tmp_path)
    words = ["paris", "spain", "italy", "norway", "peru", "chile", "egypt", "japan"]
    try:
        send(h, type="start")
        for turn, country in enumerate(words, start=1):
            send(h, type="text", text=f"tell me about {country}")
            h.sent.wait_event("reply_done", turn=turn)
            send(h, type="playback_done", turn=turn)  # heard to its end (not cut by the next one)
            h.sent.wait_for(lambda: h.session._engine.phase.name == "LISTENING")
        assert len(h.session._engine.history) < 2 * len(words)  # the model remembers only the latest
        h.session.detach()
        again = SentLog()
        h.session.attach(again)
        history = again.wait_event("ready")["history"]
        assert [(m["turn"], m["role"]) for m in history] == [
            (turn, role) for turn in range(1, 9) for role in ("user", "assistant")]
        assert history[0]["text"] == "tell me about paris" and not any(m["cut"] for m in history)
    finally:
        h.close()
        store.close()
