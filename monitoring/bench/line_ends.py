"""Do the replies model's odds tell a finished line from one that goes on?

    python -m monitoring.bench.line_ends [--out FILE]

At each pause the session asks the replies model how likely the person's line is over
after the words so far (``LLMProvider.line_ends_here``); below
``VOICECHAT_TURN_FRAGMENT_PROBABILITY`` the line is taken as unfinished and the longest
silence is waited for. This measures that judgement on written lines, per kind, each in
two places in a conversation (its first line; after the assistant asked how the day
was):

- ``finished``: everyday whole lines said to an assistant (statements and requests, as
  Whisper writes them): held is the cost, an answer 1.5 s late;
- ``asked``: the 35 questions and requests of the relevance bench, whole: a question
  mark or a request verb first needs ten times less chance of an end to be held;
- ``going-on``: the start of a sentence, cut where a speaker may stop to think, on a
  content word (the cuts the word rules cannot see: no "and", "the", "um", no comma).

Both lists were written before any odds were seen, and hold none of the sentences of
the monologue bench (``monitoring.bench.monologue``), which checks the same judgement
on speech. A run that holds more than 5 % of finished lines, or lets more than half of
the going-on ones through, exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from core.conversation.endpointing import Finish, weighed, worth_weighing
from core.providers.base import LLMProvider, Message
from monitoring.bench.relevance import PROMPTS
from monitoring.bench.targets import report

FINISHED_HELD_MAX = 0.05  # finished lines, and questions and requests
GOING_ON_HELD_MIN = 0.5
CONTEXTS: dict[str, tuple[Message, ...]] = {
    "first line": (),
    "after a question": (Message("user", "Hi."), Message("assistant", "Hello! How was your day?")),
}

FINISHED = (
    "I'm feeling a bit tired today.",
    "My flight leaves at six in the morning.",
    "I had pasta for dinner last night.",
    "That sounds like a good idea.",
    "I don't know.",
    "I'm not sure about that.",
    "We're going to the beach on Saturday.",
    "Remind me to buy milk tomorrow.",
    "Set a timer for ten minutes.",
    "I think it's going to rain later.",
    "My daughter just started school.",
    "I really liked that film.",
    "The train was late again this morning.",
    "I need a recipe for banana bread.",
    "Let's talk about something else.",
    "I've been learning to play the guitar.",
    "Thank you, that was really helpful.",
    "I can't decide what to cook tonight.",
    "My back hurts when I sit for too long.",
    "Play some relaxing music.",
    "I want to visit Japan next year.",
    "The meeting went better than I expected.",
    "We adopted a puppy last week.",
    "I'd rather stay at home tonight.",
    "Explain how rainbows form.",
    "My phone battery dies really fast.",
    "I finished reading the book you suggested.",
    "It's my birthday tomorrow.",
    "Give me an idea for a weekend trip.",
    "I've never been to a football match.",
    "The coffee here is too strong for me.",
    "I lost my keys again.",
    "Tell me about the history of chocolate.",
    "We should plan a picnic.",
    "My neighbour plays the drums every evening.",
    "I'm trying to drink more water.",
    "That's a funny story.",
    "I want to learn how to swim.",
    "It was a long day at work.",
    "Help me write a short birthday message.",
)

GOING_ON = (
    "When we got to the station",
    "My brother, who works as a nurse",
    "After dinner last night",
    "The problem with my new laptop",
    "If it doesn't rain tomorrow",
    "What I really want to know",
    "Before I forget",
    "The last time I went camping",
    "Because the shop was closed",
    "One thing I've always wondered",
    "My favourite thing about autumn",
    "Even though I was really tired",
    "The reason I'm asking",
    "As soon as I got home",
    "Whenever I try to sleep early",
    "My friend from university, the one who moved to Spain",
    "The best holiday we ever had",
    "Yesterday, on my way to work",
    "Since I started running in the mornings",
    "The woman who lives next door",
    "If you had to choose one city in Europe",
    "What worries me most about the trip",
    "Now that the kids are older",
    "During the summer holidays",
    "The first thing I do every morning",
    "Although the film was quite long",
    "Most of the people at my office",
    "When my grandmother was a little girl",
    "Instead of taking the bus",
    "The only thing that bothers me",
    "Every time I call my bank",
    "My plan for the weekend",
    "Until I find a new job",
    "The book I'm reading at the moment",
    "After thinking about it for a while",
    "Whatever we decide to do",
    "The cake my mother used to bake",
    "Once the weather gets warmer",
    "Someone at work told me",
    "Whether or not we go to the party",
)


# The relevance bench's questions and requests on their own: whole, as people ask them.
ASKED = tuple(prompt.text for prompt in PROMPTS if prompt.kind == "question")


def weigh_all(llm: LLMProvider) -> list[dict[str, Any]]:
    results = []
    for context, history in CONTEXTS.items():
        for kind, lines in (("finished", FINISHED), ("asked", ASKED), ("going-on", GOING_ON)):
            for line in lines:
                text = f"{line}." if kind == "going-on" else line  # (as the recognizer writes it)
                if not worth_weighing(text):  # too short: its words decide, as in a session
                    results.append({"kind": kind, "context": context, "line": text, "ends_here": None})
                    continue
                started = time.perf_counter()
                odds = llm.line_ends_here(history, text)
                results.append({"kind": kind, "context": context, "line": text, "ends_here": odds,
                                "ms": round((time.perf_counter() - started) * 1000, 1)})
    return results


def summarize(results: list[dict[str, Any]], below: float) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for row in results:
        group = figures.setdefault(row["kind"], {}).setdefault(row["context"],
                                                               {"n": 0, "weighed": 0, "held": 0})
        group["n"] += 1
        group["weighed"] += "ms" in row
        group["held"] += weighed(row["line"], row["ends_here"], below) is Finish.UNFINISHED
    for contexts in figures.values():
        for group in contexts.values():
            group["held_share"] = round(group["held"] / group["n"], 3)
    times = [row["ms"] for row in results if "ms" in row]
    return {"kinds": figures, "ms_p50": statistics.median(times), "ms_max": max(times)}


def missed(summary: dict[str, Any]) -> list[str]:
    misses = []
    for kind in ("finished", "asked"):
        for context, group in summary["kinds"].get(kind, {}).items():
            if (share := group["held_share"]) > FINISHED_HELD_MAX:
                misses.append(f"{kind} lines held, {context}: {share:.0%} > {FINISHED_HELD_MAX:.0%}")
    for context, group in summary["kinds"]["going-on"].items():
        if (share := group["held_share"]) < GOING_ON_HELD_MIN:
            misses.append(f"going-on lines held, {context}: {share:.0%} < {GOING_ON_HELD_MIN:.0%}")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="also write every line and its odds here")
    args = parser.parse_args(argv)
    from core.providers.registry import build_llm
    from core.settings import Settings

    settings = Settings.from_env()
    llm = build_llm(settings)
    results = weigh_all(llm)
    summary = {"bench": "line-ends", "model": llm.name, "below": settings.turn_fragment_probability,
               **summarize(results, settings.turn_fragment_probability)}
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps({**summary, "each": results}, indent=2))
    return report(missed(summary))


if __name__ == "__main__":
    sys.exit(main())
