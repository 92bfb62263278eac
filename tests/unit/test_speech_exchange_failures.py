"""A speech-to-speech API's failures as the exchange sees them (``core.providers.speech.exchange``):
stalls, errors, drops, what cannot be read, and what is kept for a new session."""

from __future__ import annotations

import json

import pytest

from core.providers.base import Message
from core.providers.speech.base import SpeechAudio, SpeechDone, SpeechFailed
from core.providers.speech.cancelled import KEPT
from core.providers.speech.common import Malformed, Other
from core.providers.speech.dialect import Began, Finished, Heard, Opened, Refused, Said, Voice, with_history
from core.providers.speech.exchange import HISTORY_KEPT, Exchange
from core.providers.speech.gemini_live import GeminiLive
from core.providers.speech.openai_realtime import OpenAIRealtime
from tests.support.speech_steps import RATE, answered, gemini, kinds, openai, pcm


# ----- failures -----------------------------------------------------------------------------------
def test_a_stalled_answer_fails_its_turn_once_and_counts_a_stall() -> None:
    ex = Exchange(openai(), 0.5)
    ex.asked(1, "hello", 0.0)
    ex.read([Began("resp_1"), Voice("resp_1", "item_1", pcm(100), RATE)], 0.1)
    assert ex.overdue(0.55) == ([], [])  # quiet for 0.45 s: not yet
    events, messages = ex.overdue(0.65)
    assert len(events) == 1 and isinstance(events[0], SpeechFailed)
    failed = events[0]
    assert (failed.turn, failed.spoke, failed.retryable) == (1, True, True)
    assert kinds(messages) == ["response.cancel"]
    assert ex.overdue(9.0) == ([], [])  # once
    assert ex.counters.stalls == 1
    assert ex.read([Voice("resp_1", "item_1", pcm(100), RATE)], 9.1) == ([], [])  # its late audio
    assert ex.read([Finished("resp_1", "completed")], 9.2) == ([], [])  # and its end: no SpeechDone


def test_an_answer_that_never_began_fails_without_having_spoken() -> None:
    for dialect in (openai(), gemini()):
        ex = Exchange(dialect, 0.5)
        ex.asked(1, "hello", 0.0)
        events, messages = ex.overdue(0.6)
        assert [(e.turn, e.spoke) for e in events if isinstance(e, SpeechFailed)] == [(1, False)]
        assert messages == []  # no response to cancel yet (and the Live API has no cancel)


def test_a_rate_limit_fails_the_oldest_open_answer_and_a_later_response_is_not_bound_to_it() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "first", 0.0)
    ex.asked(2, "second", 0.1)
    events, _ = ex.read(openai().read(
        '{"type":"error","error":{"type":"rate_limit_error","code":"rate_limit_exceeded",'
        '"message":"Rate limit reached for requests."}}'), 0.2)
    assert len(events) == 1 and isinstance(events[0], SpeechFailed)
    assert (events[0].turn, events[0].retryable, events[0].spoke) == (1, True, False)
    assert "rate_limit_exceeded" in events[0].message
    assert ex.counters.errors == 1
    events, _ = ex.read([Began("resp_x"), Voice("resp_x", "item_x", pcm(100), RATE)], 0.3)
    assert events == [SpeechAudio(2, pcm(100), RATE)]


@pytest.mark.parametrize(("code", "retryable"), [
    ("rate_limit_exceeded", True), ("server_error", True), ("RESOURCE_EXHAUSTED", True),
    ("invalid_request_error", False), ("invalid_value", False),
])
def test_only_errors_that_may_pass_are_retryable(code: str, retryable: bool) -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "hello", 0.0)
    events, _ = ex.read([Refused(code, "no")], 0.1)
    assert [(e.turn, e.retryable) for e in events if isinstance(e, SpeechFailed)] == [(1, retryable)]


@pytest.mark.parametrize("code", ["response_cancel_not_active", "cancel_not_active"])
def test_an_error_that_only_says_a_cancel_came_too_late_is_harmless(code: str) -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "hello", 0.0)
    ex.read([Began("resp_1")], 0.1)
    assert ex.read([Refused(code, "Cancellation failed: no active response found")], 0.2) == ([], [])
    assert ex.counters.errors == 0 and ex.busy()
    assert ex.read([Voice("resp_1", "item_1", pcm(100), RATE)], 0.3)[0] == [SpeechAudio(1, pcm(100), RATE)]


def test_an_error_with_no_answer_open_fails_nothing() -> None:
    ex = Exchange(openai(), 3.0)
    assert ex.read([Refused("invalid_value", "bad")], 0.0) == ([], [])
    assert ex.counters.errors == 1


def test_an_answer_that_ends_failed_without_audio_fails_its_turn() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "hello", 0.0)
    events, _ = ex.read([Began("resp_1"), Finished("resp_1", "failed")], 0.1)
    failed = [(e.turn, e.retryable, e.spoke) for e in events if isinstance(e, SpeechFailed)]
    assert failed == [(1, True, False)]
    ex.asked(2, "again", 0.2)  # with some audio, an early end is still an end
    events, _ = ex.read([Began("resp_2"), Voice("resp_2", "item_2", pcm(100), RATE),
                         Finished("resp_2", "failed")], 0.3)
    assert events[-1] == SpeechDone(2)


def test_a_dropped_connection_fails_every_open_answer_and_the_next_session_starts_afresh() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "first", 0.0)
    answered(ex, 1, "resp_1", "One.", 100, 0.1)
    ex.asked(2, "second", 0.2)
    ex.read([Began("resp_2"), Voice("resp_2", "item_2", pcm(100), RATE)], 0.3)
    ex.asked(3, "third", 0.4)  # sent, not begun
    events = ex.dropped("socket closed")
    assert all(isinstance(e, SpeechFailed) and e.retryable and "socket closed" in e.message for e in events)
    assert [(e.turn, e.spoke) for e in events if isinstance(e, SpeechFailed)] == [(2, True), (3, False)]
    assert not ex.busy() and ex.dropped("again") == []
    assert ex.overdue(99.0) == ([], [])  # (failed once, not again as stalls)
    # a response of the lost session is nobody's
    assert ex.read([Began("resp_3"), Voice("resp_3", "item_3", pcm(100), RATE)], 0.5) == ([], [])
    ex.asked(4, "fourth", 0.6)
    assert ex.read([Began("resp_4"), Voice("resp_4", "item_4", pcm(100), RATE)], 0.7)[0] == [
        SpeechAudio(4, pcm(100), RATE)]


def test_after_a_drop_gemini_answers_the_next_turn() -> None:
    ex = Exchange(gemini(), 3.0)
    ex.asked(1, "first", 0.0)
    ex.read([Voice(None, "", pcm(100), RATE)], 0.1)
    assert [e.turn for e in ex.dropped("gone")] == [1]
    ex.asked(2, "second", 0.2)
    assert ex.read([Voice(None, "", pcm(100), RATE)], 0.3)[0] == [SpeechAudio(2, pcm(100), RATE)]


def test_after_a_drop_cutting_an_answer_of_the_lost_session_sends_nothing_to_the_new_one() -> None:
    """The API streams faster than the person hears: a turn is done at the API while it still
    plays, the socket drops and is made again, then the person talks over that turn. Its
    item lived in the lost session; the new one never had it: the truncate is refused with an
    error, and ``_refused`` fails the oldest open answer, the new turn 2."""
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "tell me a story", 0.0)
    answered(ex, 1, "resp_1", "Once upon a time there was a fox.", 2000, 0.1)
    ex.dropped("socket closed")
    ex.asked(2, "wait", 0.5)  # the person's barge-in, asked in the new session
    messages = ex.cancel(1, 800.0)
    assert messages == []  # (the summary is still cut: that is the app's own history)
    assert list(ex.history)[-2] == Message("assistant", "Once upon a t …")


# ----- what cannot be read ------------------------------------------------------------------------
def test_malformed_and_unknown_steps_are_counted_and_never_raise() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "hello", 0.0)
    steps = [Began("resp_1"), Voice("resp_1", "item_1", pcm(100), RATE), Malformed("not JSON"),
             Other("response.made_up_event"), Heard("hello"), Opened(), Other("rate_limits.updated"),
             Voice("resp_1", "item_1", pcm(100), RATE), Finished("resp_1", "completed")]
    events, messages = ex.read(steps, 0.1)
    assert events == [SpeechAudio(1, pcm(100), RATE), SpeechAudio(1, pcm(100), RATE), SpeechDone(1)]
    assert messages == []
    assert (ex.counters.malformed, ex.counters.ignored, ex.counters.errors) == (1, 2, 0)


JUNK: list[str | bytes] = [
    "not json", b"\xff\xfe\x00", "[1, 2]", "{}", '{"type": 5}', "null",
    '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"!!not base64!!"}',
    '{"type":"response.done","response":{"id":7}}',
    '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm","data":"@@"}}]}}}',
    '{"serverContent":{"modelTurn":"no parts"}}', '{"goAway":{"timeLeft":"soon"}}',
]


@pytest.mark.parametrize("dialect", [openai(), gemini()], ids=["openai", "gemini"])
def test_junk_from_the_socket_is_counted_and_the_turn_goes_on(dialect: OpenAIRealtime | GeminiLive) -> None:
    ex = Exchange(dialect, 3.0)
    ex.asked(1, "hello", 0.0)
    for message in JUNK:
        events, messages = ex.read(dialect.read(message), 0.1)
        assert events == [] and messages == []
    assert ex.counters.malformed + ex.counters.ignored >= len(JUNK) - 1
    assert ex.counters.malformed >= 6
    assert ex.busy()  # the turn is still being answered


# ----- memory and the summary ---------------------------------------------------------------------
def test_memory_is_bounded_however_many_turns_are_asked() -> None:
    ex = Exchange(openai(), 3.0)
    for turn in range(1, KEPT + 40):
        ex.asked(turn, f"question {turn}", float(turn))
        answered(ex, turn, f"resp_{turn}", f"Answer {turn}.", 100, turn + 0.5)
        ex.cancel(turn, 50.0)
    assert len(ex._answers) <= KEPT and len(ex._by_response) <= KEPT
    assert len(ex.cancelled) <= KEPT and len(ex.history) <= HISTORY_KEPT
    assert ex.cancel(1, 50.0) == []  # forgotten: nothing to cut
    assert ex.cancel(KEPT + 39, 50.0) != []  # the latest is still known


def test_turns_never_answered_are_bounded_too_and_the_oldest_remembered_is_answered_first() -> None:
    for dialect in (openai(), gemini()):
        ex = Exchange(dialect, 3.0)
        for turn in range(1, KEPT + 37):
            ex.asked(turn, "", 0.0)
        assert len(ex._answers) == KEPT and len(ex._unnamed) <= KEPT
        events, _ = ex.read([Began("resp_late"), Voice("resp_late" if dialect.names_responses else None, "i",
                                                        pcm(100), RATE)], 0.1)
        assert [e.turn for e in events] == [37]


def test_a_new_session_is_told_the_conversation_so_far() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "What is the weather like?", 0.0)
    answered(ex, 1, "resp_1", "It is sunny today.", 1000, 0.1)
    ex.asked(2, "And tomorrow?", 0.2)
    answered(ex, 2, "resp_2", "Rain all day.", 1000, 0.3)
    ex.cancel(2, 500.0)
    history = tuple(ex.history)
    instructions = json.loads(openai().opening("Be brief.", history, None)[0])["session"]["instructions"]
    assert instructions == with_history("Be brief.", history)
    assert instructions.startswith("Be brief.\n\n")
    assert instructions.endswith("Person: What is the weather like?\nYou: It is sunny today.\n"
                                 "Person: And tomorrow?\nYou: Rain a …")
    setup = json.loads(gemini().opening("Be brief.", history, "handle-7")[0])["setup"]
    assert setup["systemInstruction"]["parts"][0]["text"] == instructions
    assert setup["sessionResumption"] == {"handle": "handle-7"}
    assert json.loads(openai().opening("Be brief.", (), None)[0])["session"]["instructions"] == "Be brief."


def test_the_summary_keeps_only_the_latest_messages() -> None:
    ex = Exchange(gemini(), 3.0)
    for turn in range(1, 21):
        ex.asked(turn, f"question {turn}", float(turn))
        ex.read([Said(None, f"answer {turn}"), Finished(None, "completed")], turn + 0.5)
    assert len(ex.history) == HISTORY_KEPT
    assert ex.history[-1] == Message("assistant", "answer 20")
    assert ex.history[0] == Message("user", f"question {20 - HISTORY_KEPT // 2 + 1}")
