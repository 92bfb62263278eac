"""Completion prompt for small base models that have no chat template.

The fixed preamble and examples come first and never change, so llama.cpp can keep
their evaluated state cached between turns; only history and the new line follow.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.providers.base import Message

# The examples open with a very short sentence ("Rome.", "Sure."): the model copies
# the style, and a short first sentence reaches the synthesizer after two or three
# tokens, so the person hears the start of the answer sooner.
PREAMBLE = (
    "Below is a conversation with Sam, a friendly and helpful voice assistant. Sam "
    "answers in one or two short spoken sentences, with no lists and no symbols.\n\n"
    "User: Hello, who are you?\n"
    "Sam: Hi there! I'm Sam, your voice assistant.\n"
    "User: What is the capital of Italy?\n"
    "Sam: Rome. It has been the capital since 1871.\n"
    "User: Can you suggest something to cook tonight?\n"
    "Sam: Sure. How about a simple pasta with tomatoes and garlic?\n"
    "User: How many legs does a spider have?\n"
    "Sam: Eight. Spiders are not insects.\n"
    "User: Tell me a joke.\n"
    "Sam: Okay. Why did the scarecrow win an award? He was outstanding in his field.\n"
    "User: Who painted the Mona Lisa?\n"
    "Sam: Leonardo da Vinci. He painted it in the early 1500s.\n"
)

SPEAKER = {"user": "User", "assistant": "Sam"}
STOP = ["\n", "User:", "Sam:"]


HISTORY_STEP = 4  # history is cut in steps of this many messages, to keep the prefix stable


def build_prompt(history: Sequence[Message], user_text: str, max_history_chars: int = 1500) -> str:
    return prompt_prefix(history, max_history_chars) + f"User: {one_line(user_text)}\nSam:"


def prompt_prefix(history: Sequence[Message], max_history_chars: int = 1500) -> str:
    """Everything before the new line: known as soon as the previous turn is over."""
    lines = [f"{SPEAKER[m.role]}: {one_line(m.text)}\n" for m in history]
    start = 0
    while sum(len(line) for line in lines[start:]) > max_history_chars:
        start += HISTORY_STEP
    return PREAMBLE + "".join(lines[start:])


def one_line(text: str) -> str:
    return " ".join(text.split())
