from __future__ import annotations

import json
import threading

from core.audio import ms_to_bytes
from tests.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.synthetic import timeline, to_pcm16

FRAME_20MS = ms_to_bytes(20)


def speak(harness, parts) -> None:
    signal, _ = timeline(parts)
    pcm = to_pcm16(signal)
    for i in range(0, len(pcm) - FRAME_20MS + 1, FRAME_20MS):
        harness.session.handle_binary(pcm[i : i + FRAME_20MS])


def start(harness) -> None:
    harness.session.handle_text(json.dumps({"type": "start"}))
    harness.sent.wait_event("state", state="listening")


def test_an_utterance_gets_transcript_reply_text_and_audio_in_order(make_harness) -> None:
    h = make_harness()
    start(h)
    speak(h, [("silence", 300), ("speech", 900), ("silence", 600)])
    done = h.sent.wait_event("reply_done", turn=1)
    assert done["text"] == "Paris is the capital. It is lovely."
    kinds = h.sent.summary()
    order = ["speech_started", "speech_stopped", "transcript", "reply_text", "reply_started",
             "audio(turn 1)", "reply_done"]
    positions = [kinds.index(k) for k in order]
    assert positions == sorted(positions), kinds
    states = [e["state"] for e in h.sent.events("state")]
    assert states[:4] == ["idle", "listening", "thinking", "speaking"]
    assert h.sent.wait_event("transcript")["text"] == "what is the capital of france"
    audio = h.sent.audio()
    assert audio and all(turn == 1 and rate == 16_000 for turn, rate, _ in audio)
    assert len(audio) == 2 * 3  # two sentences, three chunks each


def test_playback_done_returns_to_listening_and_history_reaches_the_llm(make_harness) -> None:
    llm = FakeLLM()
    h = make_harness(llm=llm)
    start(h)
    h.session.handle_text(json.dumps({"type": "text", "text": "hello there"}))
    h.sent.wait_event("reply_done", turn=1)
    h.session.handle_text(json.dumps({"type": "playback_done", "turn": 1}))
    h.sent.wait_for(lambda: h.sent.events("state")[-1]["state"] == "listening")
    h.session.handle_text(json.dumps({"type": "text", "text": "and again"}))
    h.sent.wait_event("reply_done", turn=2)
    assert [m.text for m in llm.histories[1]] == ["hello there", "Paris is the capital. It is lovely."]


def test_barge_in_clears_and_no_audio_of_the_old_turn_follows(make_harness) -> None:
    gate = threading.Event()
    tts = FakeTTS(chunks=40, gate=gate, free_chunks=2)
    h = make_harness(tts=tts)
    start(h)
    h.session.handle_text(json.dumps({"type": "text", "text": "tell me a long story"}))
    h.sent.wait_for(lambda: len(h.sent.audio()) >= 2)  # speaking; the rest is in flight
    speak(h, [("silence", 200), ("speech", 300)])
    clear = h.sent.wait_event("clear", turn=1)
    assert clear["reason"] == "barge_in"
    gate.set()  # let the cancelled turn try to produce the rest of its audio
    h.sent.wait_for(lambda: h.sent.events("state")[-1]["state"] == "listening")
    h.processor.shutdown()  # wait for the worker to finish with the old turn
    cleared_at = h.sent.items.index(clear)
    assert not [i for i in h.sent.items[cleared_at:] if isinstance(i, tuple) and i[0] == 1]
    assert tts.produced < 40 * 2  # the cancelled turn stopped early


def test_a_new_utterance_supersedes_the_turn_in_progress(make_harness) -> None:
    gate = threading.Event()
    h = make_harness(tts=FakeTTS(chunks=2, gate=gate))
    start(h)
    h.session.handle_text(json.dumps({"type": "text", "text": "first"}))
    h.session.handle_text(json.dumps({"type": "text", "text": "second"}))
    gate.set()
    h.sent.wait_event("clear", turn=1, reason="superseded")
    h.sent.wait_event("reply_done", turn=2)
    assert all(turn == 2 for turn, _, _ in h.sent.audio())
    assert not h.sent.events("reply_done") or all(e["turn"] == 2 for e in h.sent.events("reply_done"))


def test_empty_transcript_gets_a_clarifying_question(make_harness) -> None:
    h = make_harness(stt=FakeSTT(text=""))
    start(h)
    speak(h, [("silence", 300), ("speech", 800), ("silence", 600)])
    done = h.sent.wait_event("reply_done", turn=1)
    assert "didn't catch" in done["text"]
    assert h.sent.audio()


def test_provider_failure_is_reported_and_the_next_turn_works(make_harness) -> None:
    stt = FakeSTT(fail=True)
    h = make_harness(stt=stt)
    start(h)
    speak(h, [("silence", 300), ("speech", 800), ("silence", 600)])
    error = h.sent.wait_event("error", code="provider_failed")
    assert error["retryable"] is True and error["turn"] == 1
    h.sent.wait_for(lambda: h.sent.events("state")[-1]["state"] == "listening")
    stt.fail = False
    speak(h, [("speech", 800), ("silence", 600)])
    h.sent.wait_event("reply_done", turn=2)


def test_bad_input_gets_clear_errors_and_the_session_carries_on(make_harness) -> None:
    h = make_harness()
    h.session.handle_binary(b"\x00" * 640)  # before start
    h.sent.wait_event("error", code="not_listening")
    start(h)
    h.session.handle_binary(b"\x00" * 641)
    h.sent.wait_event("error", code="bad_audio")
    h.session.handle_binary(b"\x00" * (70_000))
    h.sent.wait_event("error", code="too_large")
    h.session.handle_text("{not json")
    h.sent.wait_event("error", code="invalid_json")
    h.session.handle_text(json.dumps({"type": "launch_rockets"}))
    h.sent.wait_event("error", code="unknown_type")
    h.session.handle_text(json.dumps([1, 2]))
    h.sent.wait_event("error", code="invalid_message")
    h.session.handle_text(json.dumps({"type": "hello", "sample_rate": 44100}))
    h.sent.wait_event("error", code="unsupported_sample_rate")
    h.session.handle_text(json.dumps({"type": "text", "text": "still there?"}))
    h.sent.wait_event("reply_done", turn=1)


def test_full_backlog_refuses_the_turn_with_a_busy_error(make_harness) -> None:
    gate = threading.Event()
    h = make_harness(tts=FakeTTS(chunks=1, gate=gate), turn_workers=1, turn_backlog=1)
    start(h)
    other = make_harness(turn_workers=1, turn_backlog=1)
    # Share one processor so the second session meets the first one's load.
    other.session._processor = h.processor
    h.session.handle_text(json.dumps({"type": "text", "text": "one"}))
    h.sent.wait_event("reply_text", turn=1)  # worker busy, held by the gate
    other.session.handle_text(json.dumps({"type": "text", "text": "two"}))  # backlog
    other.session.handle_text(json.dumps({"type": "text", "text": "three"}))
    busy = other.sent.wait_event("error", code="busy")
    assert busy["retryable"] is True
    gate.set()
    h.sent.wait_event("reply_done", turn=1)


def test_close_stops_everything_and_is_idempotent(make_harness) -> None:
    gate = threading.Event()
    h = make_harness(tts=FakeTTS(chunks=50, gate=gate))
    start(h)
    h.session.handle_text(json.dumps({"type": "text", "text": "go"}))
    h.sent.wait_event("reply_text", turn=1)
    h.session.close()
    gate.set()
    h.session.close()
    sent_after_close = len(h.sent.items)
    h.processor.shutdown()
    assert len(h.sent.items) == sent_after_close
    assert not h.session.is_current(1)


def test_speculative_transcript_is_used_when_the_pause_ends_the_turn(make_harness) -> None:
    stt = FakeSTT()
    h = make_harness(stt=stt)
    start(h)
    speak(h, [("silence", 300), ("speech", 900), ("silence", 600)])
    h.sent.wait_event("reply_done", turn=1)
    counters = h.monitor.snapshot()["counters"]
    assert counters.get("speculations_used") == 1
    assert stt.calls == 1  # the turn did not transcribe a second time


def test_speculation_is_discarded_when_the_person_goes_on(make_harness) -> None:
    stt = FakeSTT()
    h = make_harness(stt=stt)
    start(h)
    speak(h, [("silence", 300), ("speech", 600), ("silence", 200), ("speech", 600), ("silence", 600)])
    h.sent.wait_event("reply_done", turn=1)
    counters = h.monitor.snapshot()["counters"]
    assert counters.get("speculations_discarded") == 1
    assert counters.get("speculations_used") == 1
    assert len(h.sent.events("speech_stopped")) == 1
