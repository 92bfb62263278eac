"""The written-down rules of the reply relevance bench (monitoring/bench/relevance.py)."""

from __future__ import annotations

from monitoring.bench.relevance import EMPTY_REPLY, PROMPTS, Prompt, on_topic, summarize


def test_fifty_prompts_of_two_kinds_each_with_expected_words() -> None:
    assert len(PROMPTS) == 50
    assert {p.kind for p in PROMPTS} == {"question", "follow-up"}
    assert all(p.expected for p in PROMPTS)
    assert all(p.history and p.history[-1].role == "assistant" for p in PROMPTS if p.kind == "follow-up")
    assert len({p.text for p in PROMPTS if p.kind == "question"}) == 35


def test_a_reply_is_on_topic_with_an_expected_whole_word() -> None:
    leap = Prompt("question", "How many days are there in a leap year?", ("366",))
    assert on_topic(leap, "A leap year has 366 days.")
    assert not on_topic(leap, "365 days.")
    assert not on_topic(leap, "13660 days.")  # whole words only
    ice = Prompt("question", "What is frozen water called?", ("ice",))
    assert not on_topic(ice, "It is nice.")
    assert not on_topic(ice, EMPTY_REPLY) and not on_topic(ice, "  ")


def test_figures_are_per_kind() -> None:
    results = [{"kind": "question", "on_topic": True, "on_topic_own_words": True},
               {"kind": "question", "on_topic": False, "on_topic_own_words": False},
               {"kind": "follow-up", "on_topic": True, "on_topic_own_words": False}]  # (a lead-in's words)
    assert summarize(results) == {
        "question": {"n": 2, "on_topic": 1, "share": 0.5, "on_topic_own_words": 1},
        "follow-up": {"n": 1, "on_topic": 1, "share": 1.0, "on_topic_own_words": 0}}
