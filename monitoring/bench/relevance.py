"""Reply relevance of the configured replies model on 50 fixed everyday prompts.

    python -m monitoring.bench.relevance [--out FILE]

A reply is *on topic* when it holds at least one of the prompt's expected words (whole
words, any case; a number may be written in digits or words) and is not the "no answer"
fallback. The rules are written down beside each prompt, before any reply was seen, and
are deliberately lenient: they ask whether the reply is about the question, not whether
it is right in every detail. Kinds, reported apart:

- ``question``: a question or request on its own (facts, advice, small talk);
- ``follow-up``: a one-word answer or an acknowledgement to the assistant's own last
  question (the history holds that exchange); on topic means it carries the
  conversation on about the assistant's question, not answers the word.

Where the embedded model's reply starts with a lead-in (``core.providers.lead_in``: the
person took up Sam's offer, "Here's a tip for sleeping better:"), the lead-in holds the
offer's own words; so each reply is also judged on the model's own words after it
(``on_topic_own_words``), which is the figure that says what the model added.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.providers.base import LLMProvider, Message
from core.providers.lead_in import lead_in
from monitoring.bench.kinds import by_kind

EMPTY_REPLY = "Sorry, I don't have an answer to that."


@dataclass(frozen=True)
class Prompt:
    kind: str
    text: str
    expected: tuple[str, ...]
    history: tuple[Message, ...] = ()


def _q(text: str, *expected: str) -> Prompt:
    return Prompt("question", text, expected)


def _f(asked: str, said: str, *expected: str) -> Prompt:
    history = (Message("user", "Hi."), Message("assistant", asked))
    return Prompt("follow-up", said, expected, history)


PROMPTS: tuple[Prompt, ...] = (
    _q("How many days are there in a leap year?", "366", "three hundred sixty-six"),
    _q("What is the capital of France?", "Paris"),
    _q("What is the capital of Japan?", "Tokyo"),
    _q("How many legs does a cat have?", "four", "4"),
    _q("What colour is the sky on a clear day?", "blue"),
    _q("How many minutes are in an hour?", "sixty", "60"),
    _q("What is the largest planet in our solar system?", "Jupiter"),
    _q("Who wrote Romeo and Juliet?", "Shakespeare"),
    _q("What do bees make?", "honey"),
    _q("What is frozen water called?", "ice"),
    _q("How many continents are there?", "seven", "7"),
    _q("What is two plus two?", "four", "4"),
    _q("Which animal is known as the king of the jungle?", "lion"),
    _q("What language do people speak in Spain?", "Spanish"),
    _q("What is the boiling point of water in Celsius?", "100", "hundred"),
    _q("What gas do plants take in from the air?", "carbon", "CO2"),
    _q("How many hours are in a day?", "24", "twenty-four", "twenty four"),
    _q("What is the tallest mountain in the world?", "Everest"),
    _q("Can you suggest something to cook for breakfast?", "eggs", "egg", "toast", "oatmeal", "pancakes",
       "porridge", "yogurt", "fruit", "omelette", "cereal", "bacon", "avocado"),
    _q("What should I pack for a beach trip?", "sunscreen", "towel", "swimsuit", "hat", "sunglasses",
       "water"),
    _q("How can I fall asleep faster?", "bed", "sleep", "screen", "screens", "relax", "routine", "dark",
       "caffeine", "breathing", "read"),
    _q("Give me a tip for staying focused at work.", "break", "breaks", "phone", "list", "task", "tasks",
       "focus", "distractions", "timer", "notifications", "one thing"),
    _q("What is a good name for a dog?", "Max", "Buddy", "Charlie", "Luna", "Bella", "Rex", "Daisy",
       "Rocky", "Cooper", "Milo", "name"),
    _q("Tell me a fun fact about octopuses.", "octopus", "octopuses", "hearts", "arms", "ink", "brain"),
    _q("How do I make a cup of tea?", "water", "boil", "tea bag", "kettle", "steep", "leaves"),
    _q("What is a healthy snack?", "apple", "fruit", "nuts", "yogurt", "carrot", "carrots", "almonds",
       "banana", "vegetables"),
    _q("Why is exercise good for you?", "heart", "health", "healthy", "strong", "stronger", "mood",
       "energy", "muscles", "weight", "sleep"),
    _q("What is the weather usually like in winter?", "cold", "snow", "freezing", "chilly"),
    _q("How do I say hello in Spanish?", "hola"),
    _q("What is the opposite of hot?", "cold"),
    _q("Recommend a classic novel.", "Pride", "Austen", "Orwell", "1984", "Gatsby", "Dickens",
       "Mockingbird", "Tolstoy", "Moby", "Jane Eyre", "Brontë", "Bronte"),
    _q("How many sides does a triangle have?", "three", "3"),
    _q("What do you call a baby cat?", "kitten"),
    _q("What is the main ingredient of guacamole?", "avocado", "avocados"),
    _q("How far is the Moon from the Earth?", "384", "238", "kilometres", "kilometers", "miles"),
    _f("Would you like to hear a joke?", "Yes.", "why", "what", "knock", "joke", "did"),
    _f("Shall I tell you about the weather tomorrow?", "Sure.", "weather", "sunny", "rain", "cloudy",
       "tomorrow", "degrees", "warm", "cold"),
    _f("Do you want a recipe for pancakes?", "Yes, please.", "flour", "eggs", "milk", "pancake",
       "pancakes", "batter"),
    _f("Would you like a tip for sleeping better?", "Okay.", "sleep", "bed", "screen", "screens",
       "routine", "caffeine", "dark", "relax"),
    _f("Do you want to know a fact about space?", "Yes.", "space", "star", "stars", "planet", "sun",
       "galaxy", "moon", "light", "universe"),
    _f("Shall I suggest a film for tonight?", "Sure.", "film", "movie", "watch", "Inception", "Titanic",
       "comedy", "drama"),
    _f("Would you like a quick stretching exercise?", "Okay.", "stretch", "arms", "arm", "shoulders",
       "neck", "breathe", "seconds", "legs", "back"),
    _f("Do you want a word of the day?", "Yes.", "word", "means", "meaning"),
    _f("Should I tell you how to boil an egg?", "Please.", "water", "boil", "minutes", "egg", "pan"),
    _f("Would you like to practise some Spanish?", "Yes.", "hola", "Spanish", "gracias", "say", "means"),
    _f("Is there anything else I can help you with?", "No, thanks.", "bye", "goodbye", "welcome",
       "great day", "nice day", "anytime", "okay", "care"),
    _f("Did you enjoy the joke?", "Yeah.", "glad", "another", "joke", "happy", "great"),
    _f("Shall I give you a riddle?", "Go on.", "what", "riddle", "answer", "has"),
    _f("Do you want a tip for saving money?", "Mhm.", "money", "budget", "save", "saving", "spend",
       "spending", "account"),
    _f("Would you like a suggestion for a healthy lunch?", "Yes.", "salad", "lunch", "vegetables",
       "chicken", "soup", "sandwich", "fish", "beans"),
)


def on_topic(prompt: Prompt, reply: str) -> bool:
    if not reply.strip() or reply.strip() == EMPTY_REPLY:
        return False
    lowered = reply.lower()
    return any(re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", lowered) for word in prompt.expected)


def ask_all(llm: LLMProvider) -> list[dict[str, Any]]:
    results = []
    for prompt in PROMPTS:
        started = time.perf_counter()
        reply = "".join(llm.stream_reply(prompt.history, prompt.text)).strip()
        start = lead_in(prompt.history, prompt.text) or ""
        own = reply.removeprefix(start).strip() if start and reply.startswith(start) else reply
        results.append({"kind": prompt.kind, "prompt": prompt.text, "reply": reply,
                        "on_topic": on_topic(prompt, reply), "lead_in": start or None,
                        "on_topic_own_words": on_topic(prompt, own),
                        "ms": round((time.perf_counter() - started) * 1000)})
    return results


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for kind, mine in by_kind(results).items():
        hits = sum(r["on_topic"] for r in mine)
        own = sum(r.get("on_topic_own_words", r["on_topic"]) for r in mine)
        kinds[kind] = {"n": len(mine), "on_topic": hits, "share": round(hits / len(mine), 3),
                       "on_topic_own_words": own}
    return kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="also write every prompt and reply here")
    args = parser.parse_args(argv)
    from core.providers.registry import build_llm
    from core.settings import Settings

    llm = build_llm(Settings.from_env())
    results = ask_all(llm)
    summary = {"bench": "relevance", "model": llm.name, "kinds": summarize(results)}
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps({**summary, "each": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
