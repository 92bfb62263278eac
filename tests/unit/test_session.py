"""The session with real threads and fake providers: ordering, cancellation, bad input."""

from __future__ import annotations

import json
import threading

from core.audio.pcm import ms_to_bytes
from core.conversation.events import AudioKind, OutputEvent, ReplyText
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.synthetic import timeline, to_pcm16

FRAME_20MS = ms_to_bytes(20)


def speak(harness, parts) -> None:
    """Feed audio as a microphone would, moving the session clock 20 ms a frame."""
    signal, _ = timeline(parts)
    pcm = to_pcm16(signal)
    for i in range(0, len(pcm) - FRAME_20MS + 1, FRAME_20MS):
        harness.clock.now += 0.02
        harness.session.audio(pcm[i : i + FRAME_20MS])


def start(harness) -> None:
    harness.handle_text(json.dumps({"type": "start"}))
    harness.sent.wait_event("state", state="listening")


def text(harness, words: str) -> None:
    harness.handle_text(json.dumps({"type": "text", "text": words}))


def last_state(harness) -> str:
    return harness.sent.events("state")[-1]["state"]


def test_an_utterance_gets_transcript_reply_text_and_audio_in_order(make_harness) -> None:
    h = make_harness(stt=FakeSTT("What is the capital of France?"))
    start(h)
    speak(h, [("silence", 300), ("speech", 900), ("silence", 600)])
    h.sent.wait_event("reply_text", turn=1)
    speak(h, [("silence", 600)])  # past the breath gap: the held audio goes out
    done = h.sent.wait_event("reply_done", turn=1)
    assert done["text"] == "Paris is the capital. It is lovely."
    kinds = h.sent.summary()
    order = ["speech_started", "speech_stopped", "transcript", "reply_text", "reply_started",
             "audio(turn 1)", "reply_done"]
    positions = [kinds.index(k) for k in order]
    assert positions == sorted(positions), kinds
    states = [e["state"] for e in h.sent.events("state")]
    assert states[:4] == ["idle", "listening", "thinking", "speaking"]
    audio = h.sent.audio()
    assert audio and all(a.turn == 1 and a.sample_rate == 16_000 and a.kind == AudioKind.REPLY
                         for a in audio)
    assert len(audio) == 2 * 3  # two sentences, three chunks each


def test_playback_done_returns_to_listening_and_history_reaches_the_llm(make_harness) -> None:
    llm = FakeLLM()
    h = make_harness(llm=llm)
    start(h)
    text(h, "hello there")
    h.sent.wait_event("reply_done", turn=1)
    h.handle_text(json.dumps({"type": "playback_done", "turn": 1}))
    h.sent.wait_for(lambda: last_state(h) == "listening")
    text(h, "and again")
    h.sent.wait_event("reply_done", turn=2)
    assert [m.text for m in llm.histories[1]] == ["hello there", "Paris is the capital. It is lovely."]


def test_barge_in_clears_and_no_audio_of_the_old_turn_follows(make_harness) -> None:
    gate = threading.Event()
    tts = FakeTTS(chunks=40, gate=gate, free_chunks=2)
    h = make_harness(stt=FakeSTT("stop please"), tts=tts)
    start(h)
    text(h, "tell me a long story")
    h.sent.wait_for(lambda: len(h.sent.audio()) >= 2)  # speaking; the rest is in flight
    speak(h, [("silence", 200), ("speech", 300)])
    clear = h.sent.wait_event("clear", turn=1)
    assert clear["reason"] == "barge_in"
    # The monitor learns how much speech it took to stop the reply (the VAD's start window).
    barge_in = h.monitor.snapshot()["barge_in"]
    assert barge_in["n"] == 1 and 30 <= barge_in["p50"] <= 300
    gate.set()  # let the paused turn produce the rest of its audio (held, not sent)
    speak(h, [("silence", 1100)])
    h.sent.wait_event("reply_done", turn=2)
    h.workers.shutdown()
    cleared_at = h.sent.items.index(clear)
    assert not [a for a in h.sent.items[cleared_at:] if not isinstance(a, dict) and a.turn == 1]
    assert not h.sent.events("resume")


def test_a_new_message_supersedes_the_turn_in_progress(make_harness) -> None:
    gate = threading.Event()
    h = make_harness(tts=FakeTTS(chunks=2, gate=gate))
    start(h)
    text(h, "first")
    text(h, "second")
    gate.set()
    h.sent.wait_event("clear", turn=1, reason="superseded")
    h.sent.wait_event("reply_done", turn=2)
    assert all(a.turn == 2 for a in h.sent.audio())
    assert all(e["turn"] == 2 for e in h.sent.events("reply_done"))


def test_empty_transcript_gets_a_clarifying_question(make_harness) -> None:
    h = make_harness(stt=FakeSTT(text=""))
    start(h)
    speak(h, [("silence", 300), ("speech", 800), ("silence", 1200)])
    done = h.sent.wait_event("reply_done", turn=1)
    assert "didn't catch" in done["text"]
    assert h.sent.audio()


def test_provider_failure_is_reported_and_the_next_turn_works(make_harness) -> None:
    stt = FakeSTT("What time is it?", fail=True)
    h = make_harness(stt=stt)
    start(h)
    speak(h, [("silence", 300), ("speech", 800), ("silence", 1200)])
    error = h.sent.wait_event("error", code="provider_failed")
    assert error["retryable"] is True
    h.sent.wait_for(lambda: last_state(h) == "listening")
    stt.fail = False
    speak(h, [("speech", 800), ("silence", 1200)])
    h.sent.wait_for(lambda: bool(h.sent.events("reply_done")))


def test_bad_input_gets_clear_errors_and_the_session_carries_on(make_harness) -> None:
    h = make_harness()
    h.session.audio(b"\x00" * 640)  # before start
    h.sent.wait_event("error", code="not_listening")
    start(h)
    h.session.audio(b"\x00" * 641)
    h.sent.wait_event("error", code="bad_audio")
    h.session.audio(b"\x00" * (70_000))
    h.sent.wait_event("error", code="too_large")
    h.handle_text("{not json")
    h.sent.wait_event("error", code="invalid_json")
    h.handle_text(json.dumps({"type": "launch_rockets"}))
    h.sent.wait_event("error", code="unknown_type")
    h.handle_text(json.dumps([1, 2]))
    h.sent.wait_event("error", code="invalid_message")
    h.handle_text(json.dumps({"type": "hello", "sample_rate": 44100}))
    h.sent.wait_event("error", code="unsupported_sample_rate")
    text(h, "still there?")
    h.sent.wait_event("reply_done", turn=1)


def test_full_backlog_refuses_the_turn_with_an_error(make_harness) -> None:
    gate = threading.Event()
    h = make_harness(tts=FakeTTS(chunks=1, gate=gate), turn_workers=1, turn_backlog=1,
                     provider_attempt_timeout_s=30)  # (the gate holds it longer than a deadline)
    start(h)
    other = make_harness(turn_workers=1, turn_backlog=1, workers=h.workers)  # one set of pools
    text(h, "one")
    h.sent.wait_event("reply_text", turn=1)  # the speech worker is held by the gate
    text(other, "two")  # its speech task waits in the backlog
    other.sent.wait_for(lambda: bool(other.sent.events("reply_text")))
    text(other, "three")
    busy = other.sent.wait_event("error", code="provider_failed")
    assert busy["retryable"] is True
    gate.set()
    h.sent.wait_event("reply_done", turn=1)


def test_close_stops_everything_and_is_idempotent(make_harness) -> None:
    gate = threading.Event()
    h = make_harness(tts=FakeTTS(chunks=50, gate=gate))
    start(h)
    text(h, "go")
    h.sent.wait_event("reply_text", turn=1)
    h.session.close()
    gate.set()
    h.session.close()
    sent_after_close = len(h.sent.items)
    h.workers.shutdown()
    assert len(h.sent.items) == sent_after_close


def test_speculative_transcript_is_used_when_the_pause_ends_the_turn(make_harness) -> None:
    stt = FakeSTT("What is the capital of France?")
    h = make_harness(stt=stt)
    start(h)
    speak(h, [("silence", 300), ("speech", 900)])
    speak(h, [("silence", 120)])  # the pause: transcription starts
    stt.wait_calls(1)
    speak(h, [("silence", 600)])
    h.sent.wait_event("reply_done", turn=1)
    assert stt.calls == 1  # the turn did not transcribe a second time


def test_going_on_after_a_pause_makes_one_reply_to_all_of_it(make_harness) -> None:
    stt = FakeSTT("I want a table and")
    h = make_harness(stt=stt)
    start(h)
    speak(h, [("silence", 300), ("speech", 600)])
    speak(h, [("silence", 150)])
    stt.wait_calls(1)
    stt.text = "I want a table and for two people."
    speak(h, [("silence", 300), ("speech", 600), ("silence", 1200)])
    h.sent.wait_event("reply_done", turn=1)
    assert [e["text"] for e in h.sent.events("transcript")] == ["I want a table and for two people."]
    assert len(h.sent.events("speech_stopped")) == 1


def test_a_reply_prepared_during_a_mid_sentence_pause_never_reaches_the_client(make_harness) -> None:
    llm = FakeLLM()
    h = make_harness(stt=FakeSTT("tell me about the weather"), llm=llm)
    start(h)
    # No hint in the words: the silence must hold 450 ms, and the reply is prepared meanwhile.
    speak(h, [("silence", 300), ("speech", 900), ("silence", 240)])
    assert llm.called.wait(5), "no speculative reply was started"
    speculative_turn = 1
    h.providers.stt.text = "tell me about the weather in Paris"
    speak(h, [("speech", 600), ("silence", 1200)])  # the person goes on, then stops
    done = h.sent.wait_event("reply_done")
    assert done["turn"] != speculative_turn
    assert llm.texts == ["tell me about the weather", "tell me about the weather in Paris"]
    turns = [i.get("turn") if isinstance(i, dict) else i.turn for i in h.sent.items]
    assert speculative_turn not in turns


def test_a_bug_in_sending_one_event_is_reported_and_the_reply_still_comes(make_harness) -> None:
    h = make_harness()
    deliver = h.sent.deliver

    def first_reply_text_breaks(event: OutputEvent) -> None:
        if isinstance(event, ReplyText) and event.sentence == 0:
            raise RuntimeError("a bug in serializing this event")
        deliver(event)

    h.sent.deliver = first_reply_text_breaks  # type: ignore[method-assign]
    start(h)
    text(h, "what is the capital of france")
    done = h.sent.wait_event("reply_done", turn=1)  # not silent: the reply goes on
    assert done["text"] == "Paris is the capital. It is lovely."
    notice = h.sent.wait_event("error", code="internal_error")
    assert notice["retryable"] is True
    assert [e["sentence"] for e in h.sent.events("reply_text")] == [1]
    assert h.monitor.snapshot()["counters"]["error:internal"] == 1
