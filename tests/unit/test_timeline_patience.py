"""A person who was talked over mid-sentence gets a patient listener (``Patience``), on the
virtual timeline: their next pauses are waited out, a question only a breath, an
acknowledgement is no sign, and it wears off."""

from __future__ import annotations

import pytest

from core.conversation.config import EngineConfig
from core.conversation.patience import PATIENT_TURNS, goes_on
from tests.support.fakes import FakeLLM
from tests.support.timeline import Delays, Timeline

FAST = Delays(stt_ms=150, llm_first_token_ms=50, llm_token_ms=10, tts_ms=40)
HEARING = EngineConfig(hear_turn_ends=True, patience=True)
ANSWER = "That sounds lovely. Tell me more. What happened next?"  # 1.5 s of the fake voice


def audio_between(t: Timeline, start_s: float, end_s: float) -> int:
    return sum(1 for r in t.received if r.audio is not None and start_s * 1000 < r.at < end_s * 1000)


def first_audio_after(t: Timeline, end_s: float) -> float:
    return min(r.at for r in t.received if r.audio is not None and r.at > end_s * 1000) - end_s * 1000


def storyteller(t: Timeline) -> Timeline:
    """Three clauses that each sound finished, a second apart."""
    t.say(0.5, 1.5, "We drove up to the mountains.", sounds=0.9)
    t.say(2.5, 3.5, "We stopped at a little cafe.", sounds=0.9)
    return t.say(4.5, 5.5, "Then we walked until it got dark.", sounds=0.9)


def test_once_talked_over_mid_sentence_the_next_pauses_are_waited_out() -> None:
    t = storyteller(Timeline(config=HEARING, delays=FAST, llm=FakeLLM(ANSWER)))
    t.run(10.0)
    assert audio_between(t, 1.5, 2.5) > 0  # the first pause was talked into: nothing to go by yet
    assert t.engine._end.patience.too_early == 1
    assert audio_between(t, 3.5, 4.5) == 0  # the second, the same voice and words, is waited out
    assert first_audio_after(t, 5.5) >= HEARING.commit_unfinished_ms  # the end, after the longest wait


def test_control_without_the_first_pause_a_finished_clause_is_answered_at_once() -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("That sounds lovely."))
    t.say(2.5, 3.5, "We stopped at a little cafe.", sounds=0.9).run(6.0)
    assert first_audio_after(t, 3.5) < 350


def test_a_patient_listener_answers_a_question_after_a_breath() -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM(ANSWER))
    t.say(0.5, 1.5, "We drove up to the mountains.", sounds=0.9)
    t.say(2.5, 3.5, "We stopped at a little cafe.", sounds=0.9)
    t.say(6.0, 7.0, "Can you find me a cafe like that?", sounds=0.9).run(10.0)
    gap = first_audio_after(t, 7.0)
    assert HEARING.min_reply_gap_ms <= gap < HEARING.commit_unfinished_ms


def test_a_long_pause_talked_into_is_a_sign_though_the_answer_played_a_second() -> None:
    """A 1.5 s pause: the answer came 0.3 s into it and had played 1.2 s when the person
    went on; it was still playing, so they were not listening to it."""
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM(ANSWER))
    t.say(0.5, 1.5, "We drove up to the mountains.", sounds=0.9)
    t.say(3.0, 4.0, "We stopped at a little cafe.", sounds=0.9)
    t.say(5.0, 6.0, "Then we walked until it got dark.", sounds=0.9).run(10.0)
    first = first_audio_after(t, 1.5)
    assert 1000 < 1500 - first < 1500  # talked over more than a second into its audio
    assert t.engine._end.patience.too_early == 1
    assert audio_between(t, 4.0, 5.0) == 0


def test_a_question_mark_in_the_words_that_went_on_is_not_a_question() -> None:
    """Whisper makes a question of a relative clause said after a pause; the words that
    went on over the answer carry the talked-over sentence on, so its next pause waits
    as long as any other (a question in a later turn still waits a breath: above)."""
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM(ANSWER))
    t.say(0.5, 1.5, "My sister.", sounds=0.9)
    t.say(2.5, 3.5, "Who lives in Chicago?", sounds=0.9)
    t.say(4.5, 5.5, "Is coming to visit next month.", sounds=0.9).run(10.0)
    assert audio_between(t, 1.5, 2.5) > 0 and t.engine._end.patience.too_early == 1
    assert audio_between(t, 3.5, 4.5) == 0


def test_a_next_question_after_a_short_answer_is_no_sign() -> None:
    """Answered ("Eight.") and heard to its end, the person asks again at once."""
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("Eight."))
    t.say(0.5, 1.5, "How many legs does a spider have?", sounds=0.9)
    t.say(2.6, 3.6, "We stopped at a little cafe.", sounds=0.9).run(6.0)
    assert t.engine._end.patience.too_early == 0
    assert first_audio_after(t, 3.6) < 350


def test_an_acknowledgement_over_the_reply_is_no_sign() -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("The weather is sunny today. It will stay warm."))
    t.say(0.5, 1.5, "What is the weather like?", sounds=0.9)
    t.say(2.4, 2.7, "Mhm.", sounds=0.9)
    t.say(8.0, 9.0, "We stopped at a little cafe.", sounds=0.9).run(12.0)
    assert t.engine._end.patience.too_early == 0
    assert first_audio_after(t, 9.0) < 350


def test_a_request_over_the_answer_is_no_sign() -> None:
    """Talked over at once, but to turn the answer elsewhere: their next end is answered
    at once, as before (the control is the first test: the same timing, words that go on)."""
    for redirect in ("Tell me about the sea instead.", "Give me another one."):
        t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM(ANSWER))
        t.say(0.5, 1.5, "We drove up to the mountains.", sounds=0.9)
        t.say(2.5, 3.5, redirect, sounds=0.9)
        t.say(8.0, 9.0, "We stopped at a little cafe.", sounds=0.9).run(12.0)
        assert t.engine._end.patience.too_early == 0, redirect
        assert first_audio_after(t, 9.0) < 350, redirect


@pytest.mark.parametrize(("words", "expected"), [
    ("and then we walked down to the lake.", True), ("We stopped at a little cafe.", True),
    ("Mhm.", False), ("Oh, okay.", False), ("", False), ("Tell me about the sea instead.", False),
    # not told apart from words that go on, which the recognizer can make into them
    ("Stop, Tatataleeville Cafe for breakfast.", True), ("Who lives in Chicago?", True),
    ("Next up, a little cafe for breakfast. And what on the way?", True),
])
def test_words_that_go_on(words: str, expected: bool) -> None:
    assert goes_on(words) is expected


def test_patience_wears_off() -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM(ANSWER))
    t.say(0.5, 1.5, "We drove up to the mountains.", sounds=0.9)
    t.say(2.5, 3.5, "We stopped at a little cafe.", sounds=0.9)
    start = 8.0
    for _ in range(PATIENT_TURNS):  # turns a few seconds apart, each waited out
        t.say(start, start + 1.0, "It was a good day.", sounds=0.9)
        start += 5.0
    t.say(start, start + 1.0, "We should go again.", sounds=0.9).run(start + 4.0)
    assert t.engine._end.patience.too_early == 1
    assert first_audio_after(t, start + 1.0) < 350


def story_after_story(t: Timeline, stories: int) -> tuple[Timeline, list[tuple[float, float]]]:
    """Talked over once; then ``stories`` two-clause stories, each with a 1 s pause that
    sounds finished, 6 s apart: the pauses, as (start, end) in seconds."""
    t.say(0.5, 1.5, "We drove up to the mountains.", sounds=0.9)
    t.say(2.5, 3.5, "We stopped at a little cafe.", sounds=0.9)
    pauses, start = [], 8.0
    for _ in range(stories):
        t.say(start, start + 1.0, "Then we walked to the lake.", sounds=0.9)
        t.say(start + 2.0, start + 3.0, "It was cold and bright.", sounds=0.9)
        pauses.append((start + 1.0, start + 2.0))
        start += 8.0
    return t.run(start + 2.0), pauses


def test_patience_lasts_while_the_person_keeps_pausing() -> None:
    """Each pause that only the patient wait held renews it: story after story (more
    than ``PATIENT_TURNS``), no pause is talked into."""
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM(ANSWER))
    t, pauses = story_after_story(t, PATIENT_TURNS + 2)
    assert [audio_between(t, a, b) for a, b in pauses] == [0] * len(pauses)
    assert t.engine._end.patience.too_early == 1 and t.engine._end.patience.renewed == len(pauses)


def test_control_without_renewal_patience_wears_off_between_stories() -> None:
    """The same person, their pauses not counted: once the patient turns are spent, a
    pause is talked into again (what the renewal prevents)."""
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM(ANSWER))
    t.engine._end.patience.renew = lambda: None  # type: ignore[method-assign]
    t, pauses = story_after_story(t, PATIENT_TURNS + 2)
    assert any(audio_between(t, a, b) for a, b in pauses)
