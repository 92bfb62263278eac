"""Which answer of a speech-to-speech API belongs to which turn, and what is done with each
thing the API says (``core.providers.speech.exchange``): pure bookkeeping, no socket, the
time given. Steps are made directly or read by the dialects from messages shaped as the
APIs send them."""

from __future__ import annotations

import base64
import json

from core.providers.base import Message
from core.providers.speech.base import SpeechAudio, SpeechDone, SpeechHeard, SpeechText
from core.providers.speech.dialect import Began, Finished, Heard, Said, Voice
from core.providers.speech.exchange import Exchange
from tests.support.speech_steps import RATE, answered, gemini, kinds, openai, pcm


# ----- which answer is whose ----------------------------------------------------------------------
def test_openai_responses_bind_to_the_oldest_turn_still_waiting() -> None:
    dialect = openai()
    ex = Exchange(dialect, 3.0)
    ex.asked(1, "first", 0.0)
    ex.asked(2, "second", 0.1)
    for message in ('{"type":"response.created","response":{"id":"resp_a","status":"in_progress"}}',
                    '{"type":"response.created","response":{"id":"resp_b","status":"in_progress"}}'):
        assert ex.read(dialect.read(message), 0.2) == ([], [])
    audio = base64.b64encode(pcm(100)).decode()
    delta_b = ('{"type":"response.audio.delta","response_id":"resp_b","item_id":"item_b",'
               f'"output_index":0,"content_index":0,"delta":"{audio}"}}')
    text_a = ('{"type":"response.audio_transcript.delta","response_id":"resp_a","item_id":"item_a",'
              '"delta":"One."}')
    events, _ = ex.read(dialect.read(delta_b) + dialect.read(text_a), 0.3)
    assert events == [SpeechAudio(2, pcm(100), RATE), SpeechText(1, "One.")]
    done_a = '{"type":"response.done","response":{"id":"resp_a","status":"completed"}}'
    assert ex.read(dialect.read(done_a), 0.4) == ([SpeechDone(1)], [])
    assert ex.busy()  # turn 2 is still being answered


def test_gemini_answers_in_order_without_names() -> None:
    dialect = gemini()
    ex = Exchange(dialect, 3.0)
    ex.asked(1, "first", 0.0)
    ex.asked(2, "second", 0.0)
    inline = {"mimeType": "audio/pcm;rate=24000", "data": base64.b64encode(pcm(100)).decode()}
    piece = json.dumps({"serverContent": {"modelTurn": {"parts": [{"inlineData": inline}]},
                                          "outputTranscription": {"text": "Hi."}}})
    events, messages = ex.read(dialect.read(piece), 0.1)
    assert events == [SpeechAudio(1, pcm(100), RATE), SpeechText(1, "Hi.")] and messages == []
    assert ex.read(dialect.read('{"serverContent":{"turnComplete":true}}'), 0.2) == ([SpeechDone(1)], [])
    events, _ = ex.read(dialect.read(piece), 0.3)
    assert [e.turn for e in events] == [2, 2]


# ----- cancelling ---------------------------------------------------------------------------------
def test_a_cancelled_answers_audio_and_text_are_dropped_and_counted() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "tell me a story", 0.0)
    events, _ = ex.read([Began("resp_1"), Voice("resp_1", "item_1", pcm(100), RATE)], 0.1)
    assert events == [SpeechAudio(1, pcm(100), RATE)]
    assert kinds(ex.cancel(1, None)) == ["response.cancel"]
    late = [Voice("resp_1", "item_1", pcm(100), RATE), Said("resp_1", "Once upon"),
            Voice("resp_1", "item_1", pcm(100), RATE)]
    assert ex.read(late, 0.2) == ([], [])
    assert ex.cancelled.late_deltas == 3
    assert ex.read([Finished("resp_1", "cancelled")], 0.3) == ([], [])  # neither done nor failed
    assert not ex.busy()
    assert ex.cancel(1, None) == []  # a second cancel asks nothing more of the API


def test_a_cancelled_gemini_answer_is_dropped_until_it_ends_and_the_next_one_is_heard() -> None:
    ex = Exchange(gemini(), 3.0)
    ex.asked(1, "tell me a story", 0.0)
    assert ex.read([Voice(None, "", pcm(100), RATE)], 0.1)[0] == [SpeechAudio(1, pcm(100), RATE)]
    assert ex.cancel(1, None) == []  # (the Live API has no cancel: the next turn interrupts it)
    assert ex.read([Voice(None, "", pcm(100), RATE), Said(None, "Once")], 0.2) == ([], [])
    assert ex.cancelled.late_deltas == 2
    ex.asked(2, "stop", 0.3)
    assert ex.read([Finished(None, "cancelled")], 0.4) == ([], [])  # the interrupted answer
    events, _ = ex.read([Voice(None, "", pcm(100), RATE), Finished(None, "completed")], 0.5)
    assert events == [SpeechAudio(2, pcm(100), RATE), SpeechDone(2)]


def test_a_turn_cancelled_before_its_response_began_cancels_it_when_it_begins() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "hello", 0.0)
    assert ex.cancel(1, None) == []  # nothing to name yet
    events, messages = ex.read([Began("resp_1")], 0.1)
    assert events == [] and [json.loads(m) for m in messages] == [
        {"type": "response.cancel", "response_id": "resp_1"}]
    assert ex.read([Voice("resp_1", "item_1", pcm(100), RATE)], 0.2) == ([], [])
    assert ex.cancelled.late_deltas == 1
    ex.asked(2, "again", 0.3)  # the next response is the next turn's
    assert ex.read([Began("resp_2"), Voice("resp_2", "item_2", pcm(100), RATE)], 0.4)[0] == [
        SpeechAudio(2, pcm(100), RATE)]


def test_a_finished_answer_cut_where_it_was_heard_is_truncated_and_summarised_as_heard() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "weather?", 0.0)
    said = "It is sunny today."  # 18 characters over 1000 ms
    assert answered(ex, 1, "resp_1", said, 1000, 0.1)[-1] == SpeechDone(1)
    assert list(ex.history) == [Message("user", "weather?"), Message("assistant", said)]
    messages = ex.cancel(1, 500.0)
    assert [json.loads(m) for m in messages] == [{"type": "conversation.item.truncate", "item_id": "item-1",
                                                  "content_index": 0, "audio_end_ms": 500}]
    assert list(ex.history)[-1] == Message("assistant", "It is sun …")


def test_a_cut_is_never_past_what_was_spoken_and_nothing_heard_leaves_no_reply() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "weather?", 0.0)
    answered(ex, 1, "resp_1", "It is sunny today.", 1000, 0.1)
    assert json.loads(ex.cancel(1, 5000.0)[0])["audio_end_ms"] == 1000  # min(heard, spoken)
    ex.asked(2, "and tomorrow?", 0.2)
    answered(ex, 2, "resp_2", "Rain.", 400, 0.3)
    assert json.loads(ex.cancel(2, 0.0)[0])["audio_end_ms"] == 0
    assert Message("assistant", "Rain.") not in ex.history  # not a word of it was heard
    assert list(ex.history)[-1] == Message("user", "and tomorrow?")


def test_an_answer_cut_while_still_coming_is_summarised_as_heard_and_not_again_when_it_ends() -> None:
    ex = Exchange(openai(), 3.0)
    ex.asked(1, "weather?", 0.0)
    ex.read([Began("resp_1"), Voice("resp_1", "item_1", pcm(1000), RATE),
             Said("resp_1", "It is sunny today.")], 0.1)
    assert kinds(ex.cancel(1, 300.0)) == ["response.cancel", "conversation.item.truncate"]
    assert list(ex.history) == [Message("user", "weather?"), Message("assistant", "It is …")]
    assert ex.read([Finished("resp_1", "cancelled")], 0.2) == ([], [])
    assert list(ex.history) == [Message("user", "weather?"), Message("assistant", "It is …")]


# ----- the person's words, as the API heard them ---------------------------------------------------
def test_openai_transcripts_name_the_spoken_turns_in_the_order_they_were_sent() -> None:
    ex = Exchange(openai(), response_timeout_s=3.0)
    ex.asked(1, "what time is it", 0.0, spoken=True)
    ex.asked(2, "typed, not spoken", 0.1)
    ex.asked(3, "and the date", 0.2, spoken=True)
    first, _ = ex.read([Heard(" What time is it? ")], 0.3)
    second, _ = ex.read([Heard("And the date?")], 0.4)
    assert first + second == [SpeechHeard(1, "What time is it?"), SpeechHeard(3, "And the date?")]
    assert ex.read([Heard("one too many")], 0.5)[0] == []  # (no spoken turn waits for its words)


def test_gemini_transcripts_come_in_pieces_of_the_latest_spoken_turn() -> None:
    ex = Exchange(gemini(), response_timeout_s=3.0)
    ex.asked(1, "hello", 0.0, spoken=True)
    events, _ = ex.read([Heard(" What is"), Heard(" the time?")], 0.1)
    assert events == [SpeechHeard(1, "What is"), SpeechHeard(1, "What is the time?")]
    ex.asked(2, "and", 0.2, spoken=True)
    assert ex.read([Heard("And")], 0.3)[0] == [SpeechHeard(2, "And")]
