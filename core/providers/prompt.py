"""Completion prompt for small base models that have no chat template.

The fixed preamble and examples come first and never change, so llama.cpp can keep
their evaluated state cached between turns; only history and the new line follow.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.providers.base import Message

PREAMBLE = (
    "Below is a conversation with Sam, a friendly voice assistant. Sam answers in one "
    "or two short, plain spoken sentences, with no lists and no symbols.\n\n"
    "User: Hello, who are you?\n"
    "Sam: Hi, I'm Sam, your voice assistant. What can I do for you?\n"
    "User: What is the capital of Italy?\n"
    "Sam: The capital of Italy is Rome.\n"
    "User: How many legs does a spider have?\n"
    "Sam: A spider has eight legs.\n"
    "User: Can you suggest something to cook tonight?\n"
    "Sam: How about a simple pasta with tomatoes and garlic? It takes about twenty minutes.\n"
)

SPEAKER = {"user": "User", "assistant": "Sam"}
STOP = ["\n", "User:", "Sam:"]


def build_prompt(history: Sequence[Message], user_text: str, max_history_chars: int = 1500) -> str:
    lines: list[str] = []
    used = 0
    for message in reversed(history):
        line = f"{SPEAKER[message.role]}: {one_line(message.text)}\n"
        if used + len(line) > max_history_chars:
            break
        lines.append(line)
        used += len(line)
    lines.reverse()
    return PREAMBLE + "".join(lines) + f"User: {one_line(user_text)}\nSam:"


def one_line(text: str) -> str:
    return " ".join(text.split())
