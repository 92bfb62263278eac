"""The end of a turn from the words and the voice together (the turn model's verdict,
``EngineConfig.hear_turn_ends``), on the virtual timeline: finished answers at once,
held-up waits, trailing words wait whatever the voice did, no verdict falls back."""

from __future__ import annotations

import pytest

from core.conversation.config import EngineConfig
from tests.support.fakes import FakeLLM
from tests.support.timeline import Delays, Timeline

FAST = Delays(stt_ms=150, llm_first_token_ms=50, llm_token_ms=10, tts_ms=40)
HEARING = EngineConfig(hear_turn_ends=True)


def first_audio_after(t: Timeline, turn: int, end_s: float) -> float:
    return t.audio(turn=turn)[0].at - end_s * 1000


def test_finished_words_in_a_finished_voice_are_answered_at_once() -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("It is sunny."))
    t.say(0.5, 1.5, "What is the weather like?", sounds=0.9).run(5.0)
    gap = first_audio_after(t, 1, 1.5)
    # committed once the words were in (210 ms), its reply out as soon as made: no breath gap
    assert t.first("speech_stopped").at - 1500 < 250
    assert gap < 350


def test_a_voice_held_up_mid_sentence_is_not_answered_into_its_pause() -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("Sure. Here it is."))
    t.say(0.5, 1.5, "We drove up to the mountains.", sounds=0.1)
    t.say(2.4, 3.2, "and walked until dark.", sounds=0.9).run(7.0)
    assert [r.event["turn"] for r in t.events("reply_done")] == [t.events("reply_done")[0].event["turn"]]
    turn = t.events("reply_done")[0].event["turn"]
    heard = t.first("transcript", turn=turn).event["text"]
    assert heard == "We drove up to the mountains. and walked until dark."
    first = min(r.at for r in t.received if r.audio is not None)
    assert first > 3200  # nothing was heard in the 0.9 s pause


def test_a_voice_held_up_is_answered_after_the_longest_wait() -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("Sure."))
    t.say(0.5, 1.5, "We drove up to the mountains.", sounds=0.1).run(5.0)
    gap = first_audio_after(t, 1, 1.5)
    assert HEARING.commit_unfinished_ms <= gap < HEARING.commit_unfinished_ms + 150


def test_trailing_words_wait_even_when_the_voice_sounds_finished() -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("Go on."))
    t.say(0.5, 1.5, "I went to the shop and", sounds=0.95).run(5.0)
    assert first_audio_after(t, 1, 1.5) >= HEARING.commit_unfinished_ms


def test_a_late_verdict_from_the_voice_is_waited_for() -> None:
    """The words are in first (a busy model): the turn waits for the voice's verdict
    rather than committing on the words alone, and then answers at once."""
    slow = Delays(stt_ms=100, llm_first_token_ms=50, llm_token_ms=10, tts_ms=40, turn_model_ms=300)
    t = Timeline(config=HEARING, delays=slow, llm=FakeLLM("It is sunny."))
    t.say(0.5, 1.5, "What is the weather like?", sounds=0.9).run(5.0)
    commit = t.first("speech_stopped").at - 1500
    assert 300 <= commit < 400  # the verdict came 360 ms after the speech
    assert first_audio_after(t, 1, 1.5) < 450


@pytest.mark.parametrize(("words", "sounds"), [
    # The model failed or is missing: the words decide, and the breath gap is kept.
    ("What is the weather like?", None),
    # The words and the voice disagree: the recognizer heard a question, or a request.
    ("What time is it in Tokyo?", 0.05),
    ("Tell me something interesting about the moon.", 0.02),
], ids=["no verdict", "question, voice held up", "request, voice held up"])
def test_the_reply_waits_a_breath_not_the_longest(words: str, sounds: float | None) -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("It is noon."))
    t.say(0.5, 1.5, words, sounds=sounds).run(5.0)
    gap = first_audio_after(t, 1, 1.5)
    assert HEARING.min_reply_gap_ms <= gap < HEARING.min_reply_gap_ms + 30


# ----- the words weighed by the replies model (``EngineConfig.weigh_words``) ----------

def test_a_fragment_the_model_expects_more_after_is_not_answered_into_its_pause() -> None:
    """The voice sounds finished (as a synthetic voice's comma often does), but the
    replies model gives "My sister, who lives in Chicago" little chance of ending there."""
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("How nice."))
    t.say(0.5, 1.8, "My sister, who lives in Chicago.", sounds=0.9, ends=0.04)
    t.say(2.9, 4.0, "is coming to visit next month.", sounds=0.9, ends=0.9).run(8.0)
    turns = {r.event["turn"] for r in t.events("reply_done")}
    assert len(turns) == 1
    first = min(r.at for r in t.received if r.audio is not None)
    assert first > 4000  # nothing was heard in the 1.1 s pause
    assert first - 4000 < 350  # and the whole line was answered at once


def test_a_fragment_left_alone_is_answered_after_the_longest_wait() -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("Go on."))
    t.say(0.5, 1.8, "My sister, who lives in Chicago.", sounds=0.9, ends=0.04).run(6.0)
    gap = first_audio_after(t, 1, 1.8)
    assert HEARING.commit_unfinished_ms <= gap < HEARING.commit_unfinished_ms + 150


@pytest.mark.parametrize(("words", "ends"), [
    ("We adopted a puppy last week.", 0.78),  # the model expects the line to end
    ("Ever tried.", 0.02),  # two words: a base model cannot tell a short answer from a start
    ("What is the weather like?", 0.03),  # a question mark is evidence of its own
    ("I lost my keys again.", None),  # no view (a remote model, or the model was busy)
    ("I'm not sure about that.", 0.52),  # "that" often trails off, but the model hears an end
], ids=["likely end", "two words", "question", "no view", "last word weighed"])
def test_words_the_model_cannot_overrule_are_answered_at_once(words: str, ends: float | None) -> None:
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("I see."))
    t.say(0.5, 1.5, words, sounds=0.9, ends=ends).run(5.0)
    assert first_audio_after(t, 1, 1.5) < 350


def test_without_weighing_the_fragment_is_answered_at_once() -> None:
    """The control: with ``weigh_words`` off the same pause is talked into."""
    config = EngineConfig(hear_turn_ends=True, weigh_words=False)
    t = Timeline(config=config, delays=FAST, llm=FakeLLM("How nice."))
    t.say(0.5, 1.8, "My sister, who lives in Chicago.", sounds=0.9, ends=0.04).run(6.0)
    assert first_audio_after(t, 1, 1.8) < 350


def test_a_question_the_model_expects_more_after_waits_for_the_rest() -> None:
    """"Can you remind me?" (said as a question, then "to call my mother" 0.6 s later)."""
    t = Timeline(config=HEARING, delays=FAST, llm=FakeLLM("Sure."))
    t.say(0.5, 1.4, "Can you remind me?", sounds=0.8, ends=0.004)
    t.say(2.0, 2.9, "to call my mother.", sounds=0.9, ends=0.9).run(6.0)
    assert len({r.event["turn"] for r in t.events("reply_done")}) == 1
    assert min(r.at for r in t.received if r.audio is not None) > 2900
