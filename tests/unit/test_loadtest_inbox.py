"""How a load-test session reads the server: which server turn is whose question, what
ends a turn, what a refusal and a barge-in look like (messages fed in by hand)."""

from __future__ import annotations

import json

from core.transport.wire import AUDIO_KIND_CUE, encode_reply_audio
from monitoring.loadtest.audio import load_clip
from monitoring.loadtest.inbox import Inbox, PendingTurn
from tests.conftest import FIXTURES

CLIP = load_clip(FIXTURES / "question_1.wav")


def event(kind: str, **fields: object) -> str:
    return json.dumps({"type": kind, **fields})


def asking(inbox: Inbox, turn: int = 1, barge_target: int | None = None,
           voiced_at: float = 10.0) -> PendingTurn:
    pending = PendingTurn(turn, CLIP, barge_target)
    pending.first_voiced_at = voiced_at
    inbox.pending = pending
    return pending


def test_the_first_new_server_turn_after_the_question_is_its_turn() -> None:
    inbox = Inbox()
    pending = PendingTurn(1, CLIP, None)
    inbox.pending = pending
    inbox.on_text(event("state", state="thinking", turn=1), 1.0)  # before a word was said: not ours
    assert pending.server_turn is None
    pending.first_voiced_at = 2.0
    inbox.on_text(event("speech_stopped", silence_ms=450), 4.0)
    inbox.on_text(event("state", state="thinking", turn=2), 4.1)
    assert pending.server_turn == 2
    inbox.on_audio(encode_reply_audio(2, 22050, b"\x00\x00" * 10, kind=AUDIO_KIND_CUE), 4.5)
    assert pending.first_audio_at is None  # the "let me think" cue is not the answer
    inbox.on_audio(encode_reply_audio(2, 22050, b"\x00\x00" * 11025), 4.9)
    inbox.on_audio(encode_reply_audio(2, 22050, b"\x00\x00" * 22050), 5.2)
    assert pending.first_audio_at == 4.9
    assert pending.audio_s == 1.5  # how long the answer plays: the session listens that long
    inbox.on_text(event("reply_done", turn=2, text="Hi.", timings={"tts_first_audio_ms": 812.5}), 6.0)
    assert pending.done_at == 6.0 and pending.server_v2v_ms == 812.5


def test_a_late_message_of_an_earlier_turn_is_not_taken_for_the_next_question() -> None:
    inbox = Inbox()
    first = asking(inbox)
    inbox.on_text(event("transcript", turn=1, text="hi", final=True), 3.0)
    assert first.server_turn == 1
    second = asking(inbox, turn=2, voiced_at=20.0)
    inbox.on_audio(encode_reply_audio(1, 22050, b"\x00\x00"), 20.5)  # the old reply, late
    inbox.on_text(event("reply_done", turn=1, text="old"), 20.6)
    assert second.server_turn is None and second.first_audio_at is None and second.done_at is None
    inbox.on_text(event("reply_started", turn=2, sample_rate=22050), 23.0)
    assert second.server_turn == 2


def test_an_error_or_a_repeat_for_the_turn_is_noted_on_it() -> None:
    inbox = Inbox()
    pending = asking(inbox)
    inbox.on_text(event("error", code="provider_failed", turn=1, message="x", retryable=True), 3.0)
    assert pending.error == "provider_failed" and inbox.errors["provider_failed"] == 1
    repeated = asking(inbox, turn=2, voiced_at=30.0)
    inbox.on_text(event("ignored", turn=2, reason="repeated"), 33.0)
    assert repeated.ignored
    inbox.on_text(event("error", code="rate_limited", message="slow down", retryable=True), 34.0)
    assert repeated.error is None and inbox.errors["rate_limited"] == 1 and inbox.last_error == "rate_limited"


def test_a_refusal_wakes_the_session_with_its_code() -> None:
    inbox = Inbox()
    inbox.on_text(event("ready", protocol=1, session_id="s"), 0.1)
    assert not inbox.wake.is_set()
    inbox.on_text(event("error", code="server_full", message="full", retryable=True), 0.2)
    assert inbox.refused == "server_full" and inbox.wake.is_set()


def test_listening_wakes_the_session() -> None:
    inbox = Inbox()
    inbox.on_text(event("state", state="listening", turn=0), 0.1)
    assert inbox.wake.is_set() and inbox.state == "listening"


def test_the_clear_of_the_reply_talked_over_times_the_barge_in() -> None:
    inbox = Inbox()
    first = asking(inbox)
    inbox.on_text(event("state", state="thinking", turn=1), 3.0)
    interrupting = asking(inbox, turn=2, barge_target=first.server_turn, voiced_at=5.0)
    inbox.on_text(event("speech_started"), 5.2)
    inbox.on_text(event("clear", turn=1, reason="barge_in"), 5.25)
    assert interrupting.cleared_at == 5.25 and interrupting.server_turn is None
    inbox.on_text(event("state", state="thinking", turn=2), 8.0)
    assert interrupting.server_turn == 2


def test_an_answer_dropped_because_the_question_went_on_is_not_its_reply() -> None:
    inbox = Inbox()
    pending = asking(inbox)
    inbox.on_audio(encode_reply_audio(1, 22050, b"\x00\x00"), 3.0)  # answered a pause
    inbox.on_text(event("clear", turn=1, reason="barge_in"), 3.2)  # the person went on
    assert pending.server_turn is None and pending.first_audio_at is None
    inbox.on_audio(encode_reply_audio(1, 22050, b"\x00\x00"), 3.3)  # still in flight: not the answer
    assert pending.server_turn is None and pending.first_audio_at is None
    inbox.on_audio(encode_reply_audio(2, 22050, b"\x00\x00"), 6.0)
    assert pending.server_turn == 2 and pending.first_audio_at == 6.0


def test_a_turn_cleared_before_it_was_matched_is_never_taken() -> None:
    inbox = Inbox()
    pending = asking(inbox)
    inbox.on_text(event("clear", turn=3, reason="superseded"), 2.0)
    inbox.on_audio(encode_reply_audio(3, 22050, b"\x00\x00"), 2.1)
    assert pending.server_turn is None
    inbox.on_text(event("state", state="thinking", turn=4), 4.0)
    assert pending.server_turn == 4


def test_garbage_from_the_server_is_counted_not_fatal() -> None:
    inbox = Inbox()
    inbox.on_text("{not json", 1.0)
    inbox.on_audio(b"VC", 1.1)
    assert inbox.errors == {"bad_json_from_server": 1, "bad_audio_from_server": 1}


def test_listening_again_after_the_reply_was_heard_ends_it_without_reply_done() -> None:
    inbox = Inbox()
    pending = asking(inbox)
    inbox.on_text(event("state", state="listening", turn=None), 3.0)  # before any answer: nothing
    assert pending.done_at is None
    inbox.on_audio(encode_reply_audio(1, 22050, b"\x00\x00"), 4.0)
    inbox.on_text(event("state", state="listening", turn=None), 9.0)
    assert pending.done_at == 9.0 and pending.server_v2v_ms is None


def test_an_interruption_taken_for_noise_is_noted_when_the_old_reply_resumes() -> None:
    inbox = Inbox()
    interrupting = asking(inbox, turn=3, barge_target=2, voiced_at=5.0)
    inbox.on_text(event("clear", turn=2, reason="barge_in"), 5.1)
    inbox.on_text(event("state", state="thinking", turn=3), 8.0)
    assert not interrupting.resumed
    inbox.on_text(event("resume", turn=2, from_ms=0), 8.0)
    assert interrupting.resumed and interrupting.server_turn == 3


def test_a_restarting_server_is_noted_and_a_new_socket_keeps_the_credentials() -> None:
    inbox = Inbox()
    inbox.on_text(event("ready", session_id="s1", resume_token="t1", resumed=False), 1.0)
    inbox.on_text(event("state", state="listening"), 1.1)
    inbox.on_text(event("error", code="server_restarting", retryable=True), 2.0)
    assert inbox.restarting and inbox.readied and inbox.state == "listening"
    inbox.reopen()
    assert not inbox.restarting and not inbox.readied and inbox.state is None and not inbox.closed
    assert inbox.ready["resume_token"] == "t1"  # what the resume shows
    inbox.on_text(event("ready", session_id="s1", resume_token="t2", resumed=True, history=[]), 3.0)
    assert inbox.readied and inbox.ready_at == 3.0 and inbox.ready["resume_token"] == "t2"


def test_after_a_move_a_turn_number_the_dead_server_had_begun_is_taken_again() -> None:
    """A killed process's conversation goes on from its copy after the last reply: the
    number of the turn it had begun comes again for the question asked again."""
    inbox = Inbox()
    first = asking(inbox, turn=1)
    inbox.on_text(event("reply_done", turn=3), 5.0)
    assert first.server_turn == 3
    cut = asking(inbox, turn=2, voiced_at=6.0)
    inbox.on_text(event("state", state="thinking", turn=4), 7.0)
    assert cut.server_turn == 4
    inbox.reopen()
    again = asking(inbox, turn=2, voiced_at=9.0)
    inbox.on_text(event("state", state="thinking", turn=4), 10.0)
    assert again.server_turn == 4
