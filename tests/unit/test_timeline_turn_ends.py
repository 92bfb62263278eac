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
