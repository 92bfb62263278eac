from __future__ import annotations

import pytest

from core.conversation.endpointing import Finish, asks, is_backchannel, weighed, worth_weighing
from core.conversation.history import ConversationHistory
from core.conversation.sentences import SentenceSplitter, speakable
from core.providers.base import Message
from core.providers.prompt import PREAMBLE, build_prompt


def test_sentences_come_out_as_soon_as_they_are_whole() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed(" The capital") == []
    assert splitter.feed(" of France is Paris.") == ["The capital of France is Paris."]
    assert splitter.feed(" It is") == []
    assert splitter.feed(" lovely! And") == ["It is lovely!"]
    assert splitter.flush() == ["And"]


def test_numbers_and_abbreviations_do_not_end_a_sentence() -> None:
    pieces = ["It costs 3", ".", "5 dollars, Mr", ". Smith", " said so."]
    splitter = SentenceSplitter()
    sentences = [s for piece in pieces for s in splitter.feed(piece)] + splitter.flush()
    assert sentences == ["It costs 3.5 dollars, Mr. Smith said so."]


def test_markdown_lists_and_emoji_are_not_spoken() -> None:
    assert speakable("**Sure!** 😀 Here: - one - two") == "Sure! Here: one two"
    assert speakable("# Title `code`") == "Title code"


def test_history_drops_the_oldest_half_at_once() -> None:
    history = ConversationHistory(8)
    for n in range(4):
        history.add(Message("user", f"q{n}"), Message("assistant", f"a{n}"))
    assert len(history) == 8
    history.add(Message("user", "q4"), Message("assistant", "a4"))
    assert [m.text for m in history.messages()] == ["q3", "a3", "q4", "a4"]


def test_prompt_keeps_its_prefix_while_history_grows() -> None:
    history = [Message("user", "x" * 100), Message("assistant", "y" * 100)] * 3
    first = build_prompt(history, "next", max_history_chars=1500)
    second = build_prompt([*history, Message("user", "z"), Message("assistant", "w")], "again",
                          max_history_chars=1500)
    shared = first[: first.rindex("User: next")]
    assert second.startswith(shared) and first.startswith(PREAMBLE)
    assert first.endswith("User: next\nSam:")


def test_prompt_history_is_cut_to_its_budget_in_steps() -> None:
    history = [Message("user", "x" * 300), Message("assistant", "y" * 300)] * 4
    prompt = build_prompt(history, "hi", max_history_chars=1500)
    body = prompt[len(PREAMBLE):]
    assert len(body) < 1500 + 50
    assert body.count("User:") == 3  # 4 of 8 messages dropped, then the new line


def test_finished_and_unfinished_words() -> None:
    from core.conversation.endpointing import Finish, judge

    assert judge("How many legs does a spider have?") is Finish.DONE
    assert judge("What is the capital of France?") is Finish.DONE
    assert judge("Tell me about the moon.") is Finish.DONE
    assert judge("I want to book a table and") is Finish.UNFINISHED
    assert judge("so um") is Finish.UNFINISHED
    assert judge("because,") is Finish.UNFINISHED
    assert judge("tell me about the weather") is Finish.UNKNOWN
    assert judge("") is Finish.UNKNOWN


def feed_all(splitter: SentenceSplitter, text: str) -> list[str]:
    """Feed ``text`` the way an LLM streams it: a word (with its leading space) at a time."""
    words = text.split(" ")
    pieces = [words[0]] + [" " + w for w in words[1:]]
    return [s for piece in pieces for s in splitter.feed(piece)] + splitter.flush()


def test_the_first_piece_may_be_a_clause() -> None:
    splitter = SentenceSplitter(first_clause_words=2)
    assert feed_all(splitter, "I'm sorry, I can't cook. Try a recipe, maybe.") == [
        "I'm sorry,", "I can't cook.", "Try a recipe, maybe."]
    assert splitter.clauses == 1


@pytest.mark.parametrize(("reply", "pieces"), [
    ("No, it's not possible.", ["No,", "it's not possible."]),
    ("Well, I think so.", ["Well,", "I think so."]),
    ("Of course, here it is.", ["Of course,", "here it is."]),
    ("Yes, I did. And you, too.", ["Yes,", "I did.", "And you, too."]),
])
def test_an_opening_interjection_is_spoken_at_once(reply: str, pieces: list[str]) -> None:
    assert feed_all(SentenceSplitter(first_clause_words=2), reply) == pieces


def test_a_clause_must_be_long_enough_and_really_end() -> None:
    assert feed_all(SentenceSplitter(first_clause_words=2), "Paris, I think.") == ["Paris, I think."]
    assert feed_all(SentenceSplitter(first_clause_words=2), "It's 10:30 now, in Tokyo.") == [
        "It's 10:30 now,", "in Tokyo."]
    assert feed_all(SentenceSplitter(first_clause_words=2), "About 3,000 people came.") == [
        "About 3,000 people came."]
    assert feed_all(SentenceSplitter(), "I'm sorry, I can't cook.") == ["I'm sorry, I can't cook."]


@pytest.mark.parametrize("text", ["Mhm.", "Yeah.", "Uh-huh.", "Yeah, right.", "Oh, okay.", "I see.",
                                  "Got it!", "Mmmm", "MMM", "Uh-uh.", "AHH!", "Hmmm.",
                                  # one hum, however Whisper spells it out
                                  "Mm-mm-mm-mm-mm", "M-H-M.", "M. M. M. M. M. M.", "Em..."])
def test_acknowledgements_are_backchannels(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize("text", ["", "Okay, stop.", "Yes, and what about Paris?", "Wait.", "No.",
                                  "Yeah yeah yeah yeah", "M. Night Shyamalan", "Emma."])
def test_other_words_are_not_backchannels(text: str) -> None:
    assert not is_backchannel(text)


@pytest.mark.parametrize("text", ["What time is it?", "Tell me something interesting about the moon.",
                                  "Please play some music!", "Remind me to call my mother."])
def test_questions_and_requests_ask(text: str) -> None:
    assert asks(text)


@pytest.mark.parametrize("text", ["Last weekend we drove up to the mountains.", "My sister, who lives here.",
                                  "Tell me", "Tell me about the weather and", ""])
def test_statements_and_fragments_do_not_ask(text: str) -> None:
    assert not asks(text)


@pytest.mark.parametrize(("text", "worth"), [
    ("My sister, who lives in Chicago.", True),
    ("We adopted a puppy last week.", True),
    ("Ever tried.", False),  # one or two words: whole answers a base model cannot tell
    ("Yes.", False),
    ("What is the weather like?", True),  # a question: weighed, against stronger evidence
    ("Tell me about the moon.", True),  # a request, likewise
    ("I went to the shop and", False),  # already trails off
])
def test_which_words_are_worth_weighing(text: str, worth: bool) -> None:
    assert worth_weighing(text) is worth


def test_a_low_chance_of_ending_makes_a_line_unfinished() -> None:
    assert weighed("My sister, who lives in Chicago.", 0.04, 0.1) is Finish.UNFINISHED
    assert weighed("My sister, who lives in Chicago.", 0.4, 0.1) is Finish.DONE
    assert weighed("My sister, who lives in Chicago.", None, 0.1) is Finish.DONE
    assert weighed("Ever tried.", 0.01, 0.1) is not Finish.UNFINISHED


def test_a_last_word_that_only_often_trails_off_is_the_models_to_judge() -> None:
    assert weighed("I'm not sure about that.", 0.52, 0.1) is Finish.DONE
    assert weighed("So what I was thinking is.", 0.017, 0.1) is Finish.UNFINISHED
    assert weighed("I'm not sure about that.", None, 0.1) is Finish.UNFINISHED  # no model: the list
    assert weighed("I went to the shop and", 0.9, 0.1) is Finish.UNFINISHED  # "and" never ends one
    assert weighed("We drove to the coast,", 0.9, 0.1) is Finish.UNFINISHED  # nor does a comma


def test_a_question_or_a_request_needs_ten_times_less_chance_to_be_held() -> None:
    assert weighed("Can you remind me?", 0.004, 0.1) is Finish.UNFINISHED
    assert weighed("Can you help me?", 0.035, 0.1) is Finish.DONE  # a statement would be held
    assert weighed("I can help you.", 0.035, 0.1) is Finish.UNFINISHED
    assert weighed("Tell me about it.", 0.5, 0.1) is Finish.DONE  # "it" weighed, not listed
