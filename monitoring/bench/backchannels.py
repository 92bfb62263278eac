"""Backchannels over a reply: "mhm", "yeah", "right" said while the assistant speaks, as
a listener does to say "go on". Each is said about half a second into a reply's audio;
the reply either goes on (never stopped, or stopped and picked up again from the sentence
it cut) or is stopped for good (cut, or replaced by an answer to the backchannel).

Material, each its own kind: espeak-ng, five voices (``monitoring.bench.material``), five
backchannels each (``synthetic``); the Piper voice at three speeds, the four that are
words (``neural``). The questions before them are the project's recorded ones.

The hum. Given the text "Mhm.", both synthesizers spell it: "em-aitch-em" (espeak-ng's
phonemes ``,Em,eItS'Em``, which Piper uses too), which no listener says, and which
Whisper writes "and the term", "In a game", "and make 10." (the stop-32 figures counted
those). espeak-ng is given the hum as phonemes instead (a nasal "m-hm"). Piper cannot
hum: given the same hum in IPA, five ways, its voice makes a short word-like sound that
Whisper writes "Nah.", "That?", "Mama", "A moment." — so the neural kind has no hum.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from monitoring.bench.kinds import by_kind
from monitoring.bench.material import VOICES, NeuralVoice, spoken
from monitoring.clients.voice_client import VoiceClient, frames_of, quiet_frame

HUM = "Mhm."
BACKCHANNELS = (HUM, "Yeah.", "Right.", "Uh huh.", "Okay.")
WORDS = tuple(word for word in BACKCHANNELS if word != HUM)  # what Piper can say
ESPEAK_HUM = "[[m'hm]]"  # espeak-ng's phoneme input: m, stress, h, m
INTO_REPLY_S = 0.5  # of the reply's audio heard before the backchannel starts
LEAD_FRAMES = 15
TIMEOUT_S = 20.0
DECIDED_WITHIN_S = 6.0  # the segmenter's longest wait and the recognizer, many times over


def _reply_heard_for(client: VoiceClient, before: int) -> Callable[[], bool]:
    def heard() -> bool:
        turn = client.latest_turn()
        start = client.turns[turn].first_audio_at if turn > before else None
        return start is not None and time.monotonic() - start >= INTO_REPLY_S
    return heard


def _answered_instead(client: VoiceClient, target: int) -> bool:
    """A later turn was taken as words to answer (a turn merely opened, then ignored as a
    backchannel, does not count)."""
    return any(record.transcript or record.first_audio_at is not None
               for number, record in list(client.turns.items()) if number > target)


def _settled(client: VoiceClient, target: int) -> Callable[[], bool]:
    """The backchannel has been judged: the reply ``target`` picked up again, or another
    turn is answered instead. (Neither within ``DECIDED_WITHIN_S``: the reply stopped.)"""
    def settled() -> bool:
        return client.turns[target].resumes > 0 or _answered_instead(client, target)
    return settled


PIPER_SPEEDS = (0.8, 1.0, 1.3)  # Piper's length scale: quicker, as trained, slower


def neural_voices() -> dict[str, Callable[[str], bytes]]:
    """The Piper voice at each of ``PIPER_SPEEDS``."""
    voice = NeuralVoice()
    return {f"piper-x{scale}": lambda text, scale=scale: voice.say(text, scale) for scale in PIPER_SPEEDS}


def espeak_says(word: str, voice: str) -> bytes:
    """``word`` said by espeak-ng in ``voice``, the hum as a hum."""
    return spoken(ESPEAK_HUM if word == HUM else word, voice, 170)


def _one_voice(client: VoiceClient, kind: str, voice: str, say: Callable[[str], bytes],
               words: tuple[str, ...], questions: list[bytes], rng: np.random.Generator,
               log: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    results = []
    for word, question in zip(words, questions, strict=True):
        before = client.latest_turn()
        heard = _reply_heard_for(client, before)
        lead = [quiet_frame(rng) for _ in range(LEAD_FRAMES)]
        client.stream(lead + frames_of(question), until=heard, max_s=TIMEOUT_S, rng=rng)
        if not heard():
            results.append({"kind": kind, "voice": voice, "word": word, "ok": False})
            continue
        target = client.latest_turn()
        client.stream(frames_of(say(word)), until=_settled(client, target),
                      max_s=DECIDED_WITHIN_S, rng=rng)
        record = client.turns[target]
        replaced = _answered_instead(client, target)
        stopped = replaced or record.cleared_at is not None
        words_heard = [later.transcript for number, later in list(client.turns.items())
                       if number > target and later.transcript]
        result = {"kind": kind, "voice": voice, "word": word, "ok": True, "went_on": not stopped,
                  "paused_and_resumed": record.resumes > 0 and not stopped, "replaced": replaced,
                  "heard": words_heard}
        results.append(result)
        log(result)
        for turn in range(target, client.latest_turn() + 1):
            client.send_json({"type": "playback_done", "turn": turn})
        client.stream([], until=lambda: client.last_state() == "listening", max_s=TIMEOUT_S, rng=rng)
    return results


def say_each(url: str, questions: list[bytes],
             log: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """``questions``: one before each backchannel (no question twice in a session: the
    same words again would not be answered)."""
    results = []
    rng = np.random.default_rng(5)
    voices: list[tuple[str, str, Callable[[str], bytes], tuple[str, ...]]] = [
        ("synthetic", voice, lambda text, voice=voice: espeak_says(text, voice), BACKCHANNELS)
        for voice in VOICES]
    voices += [("neural", name, say, WORDS) for name, say in neural_voices().items()]
    for kind, voice, say, words in voices:
        with VoiceClient(url) as client:
            results += _one_voice(client, kind, voice, say, words, questions[: len(words)], rng, log)
    return results


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    kinds: dict[str, dict[str, Any]] = {}
    for kind, mine in by_kind(results).items():
        done = [r for r in mine if r["ok"]]
        stopped = sum(not r["went_on"] for r in done)
        kinds[kind] = {"n": len(mine), "measured": len(done), "stopped": stopped,
                       "stopped_share": round(stopped / len(done), 3) if done else None,
                       "paused_and_resumed": sum(r["paused_and_resumed"] for r in done),
                       "replaced_by_an_answer": sum(r["replaced"] for r in done),
                       "stopped_by": sorted(r["word"] for r in done if not r["went_on"])}
    return kinds
