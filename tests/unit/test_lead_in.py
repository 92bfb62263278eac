"""The start of Sam's reply when the person takes up (or turns down) its own offer."""

from __future__ import annotations

import pytest

from core.providers.base import Message
from core.providers.lead_in import lead_in, offered


def after(sam: str) -> list[Message]:
    return [Message("user", "Hi."), Message("assistant", sam)]


@pytest.mark.parametrize(("line", "delivery"), [
    ("Would you like a tip for sleeping better?", "Here's a tip for sleeping better:"),
    ("Do you want to hear a story?", "Here's a story:"),
    ("Would you like to know about the Romans?", "Here's a bit about the Romans:"),
    ("Shall I suggest a book for the holidays?", "Here's a book for the holidays:"),
    ("Should I tell you how to make bread?", "Here's how to make bread:"),
    ("Want me to recommend a podcast?", "Here's a podcast:"),
    ("Would you like to learn a card trick?", "Here's a card trick:"),
    ("Would you like to play a word game?", "Let's play a word game."),
    ("Sure. Do you want another one?", "Here's another one:"),  # the last sentence counts
])
def test_an_offer_is_delivered_when_taken_up(line: str, delivery: str) -> None:
    assert offered(line) == delivery
    for yes in ("Yes.", "Sure.", "Okay.", "Yes, please.", "Go on.", "Mhm.", "Why not?"):
        assert lead_in(after(line), yes) == delivery


@pytest.mark.parametrize("line", [
    "Did you enjoy the film?",  # a question, not an offer
    "Is there anything else I can help you with?",
    "Paris is lovely in spring.",  # not a question
    "Would you like a tip? I have a good one.",  # the offer is not the last thing said
])
def test_other_last_lines_get_no_lead_in(line: str) -> None:
    assert lead_in(after(line), "Yes.") is None


def test_a_no_to_an_offer_is_taken_gracefully_and_other_answers_are_left_alone() -> None:
    history = after("Would you like a tip for sleeping better?")
    assert lead_in(history, "No, thanks.") == "Okay, no problem."
    assert lead_in(history, "Nope.") == "Okay, no problem."
    assert lead_in(history, "Yes, but about cooking instead.") is None  # more than a yes
    assert lead_in(history, "What time is it?") is None
    assert lead_in([], "Yes.") is None  # nothing offered yet
    assert lead_in([*history, Message("user", "Hm.")], "Yes.") is None  # Sam's line is not the last
