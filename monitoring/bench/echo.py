"""The assistant's own voice in the microphone: a client on laptop speakers without echo
cancellation (``monitoring.clients.echoing_client``), the reply coming back at -10 and
-20 dB through a small room, 120 ms late.

Per level, one session: 20 questions each answered and played to the end while its echo
is mixed into the microphone (a self-interruption: a ``clear`` of that reply for a
barge-in, or speech heard while it played), then 5 replies talked over by a recorded
question, the echo still mixed in (barge-in time, first voiced frame to ``clear``).

Material: the questions asked are everyday questions said by espeak-ng in five voices
(kind ``synthetic``); the interruptions are the project's recorded questions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from monitoring.bench.material import VOICES, spoken
from monitoring.bench.relevance import PROMPTS
from monitoring.clients.echoing_client import EchoingClient, EchoPath
from monitoring.clients.voice_client import frames_of, quiet_frame
from monitoring.metrics.monitor import percentile

LEVELS_DB = (-10.0, -20.0)
REPLIES = 20
BARGE_INS = 5
INTO_REPLY_S = 0.6  # of the reply played before the person talks over it (some replies are short)
LEAD_FRAMES = 15
TIMEOUT_S = 40.0
ECHO_FADE_S = 0.5  # the echo's delay and the room's tail, after the speaker fell silent


def questions() -> list[bytes]:
    texts = [p.text for p in PROMPTS if p.kind == "question"][: REPLIES + BARGE_INS]
    return [spoken(text, VOICES[n % len(VOICES)], 170) for n, text in enumerate(texts)]


def _answer(client: EchoingClient, before: int) -> int | None:
    later = [n for n, r in list(client.turns.items()) if n > before and r.first_audio_at is not None]
    return min(later, default=None)


def _played_out(client: EchoingClient, before: int) -> Callable[[], bool]:
    quiet_since: list[float] = []

    def done() -> bool:
        turn = _answer(client, before)
        if turn is None:
            return False
        record = client.turns[turn]
        finished = record.cleared_at is not None or (record.done_at is not None and client.speaker_idle())
        if not finished:
            quiet_since.clear()
            return False
        if not quiet_since:
            quiet_since.append(time.monotonic())
        return time.monotonic() - quiet_since[0] >= ECHO_FADE_S
    return done


def _speech_heard_during(client: EchoingClient, start: float, end: float) -> int:
    return sum(1 for e in list(client.events) if e["type"] == "speech_started" and start < e["_t"] <= end)


def _finish(client: EchoingClient, rng: np.random.Generator) -> None:
    for turn in range(1, client.latest_turn() + 1):
        client.send_json({"type": "playback_done", "turn": turn})
    client.stream([], until=lambda: client.last_state() == "listening", max_s=TIMEOUT_S, rng=rng)


def _replies(client: EchoingClient, asked: list[bytes], level_db: float, rng: np.random.Generator,
             log: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    results = []
    for question in asked:
        before = client.latest_turn()
        lead = [quiet_frame(rng) for _ in range(LEAD_FRAMES)]
        client.stream(lead + frames_of(question), until=_played_out(client, before), max_s=TIMEOUT_S, rng=rng)
        turn = _answer(client, before)
        result: dict[str, Any] = {"kind": "synthetic", "level_db": level_db, "ok": turn is not None}
        if turn is not None:
            record = client.turns[turn]
            heard = _speech_heard_during(client, record.first_audio_at or 0.0, time.monotonic())
            result |= {"turn": turn, "audio_s": round(record.audio_bytes / 2 / max(record.sample_rate, 1), 2),
                       "cleared": record.cleared_at is not None, "speech_heard": heard,
                       "self_interrupted": record.cleared_at is not None or heard > 0}
        results.append(result)
        log(result)
        _finish(client, rng)
    return results


def _barge_ins(client: EchoingClient, asked: list[bytes], interruptions: list[bytes], level_db: float,
               rng: np.random.Generator, log: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    results = []
    for question, interruption in zip(asked, interruptions, strict=False):
        before = client.latest_turn()

        def playing(before: int = before) -> bool:
            turn = _answer(client, before)
            start = client.turns[turn].first_audio_at if turn is not None else None
            return start is not None and time.monotonic() - start >= INTO_REPLY_S

        lead = [quiet_frame(rng) for _ in range(LEAD_FRAMES)]
        client.stream(lead + frames_of(question), until=playing, max_s=TIMEOUT_S, rng=rng)
        turn = _answer(client, before)
        result: dict[str, Any] = {"kind": "synthetic", "level_db": level_db, "ok": False, "barge_in_ms": None,
                                  "why": "no reply playing to talk over"}
        if turn is not None and client.turns[turn].cleared_at is None and not client.speaker_idle():
            client.stream(frames_of(interruption), until=_played_out(client, turn), max_s=TIMEOUT_S, rng=rng)
            spoke_at = client.stream_first_voiced_at
            cleared_at = client.event_time("clear", turn=turn, reason="barge_in")
            result["why"] = "the person over the reply was not heard"
            if spoke_at is not None and cleared_at is not None and cleared_at < spoke_at:
                result["why"] = "cleared before the person spoke (its own echo)"
            elif spoke_at is not None and cleared_at is not None:
                result |= {"ok": True, "barge_in_ms": round((cleared_at - spoke_at) * 1000, 1), "why": None}
        results.append(result)
        log(result)
        _finish(client, rng)
    return results


def run(url: str, interruptions: list[bytes], log: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    asked = questions()
    results = []
    rng = np.random.default_rng(11)
    for level_db in LEVELS_DB:
        with EchoingClient(url, EchoPath(level_db)) as client:
            results += [{"part": "reply", **r} for r in _replies(client, asked[:REPLIES], level_db, rng, log)]
            results += [{"part": "barge_in", **r} for r in _barge_ins(
                client, asked[REPLIES:], interruptions[:BARGE_INS], level_db, rng, log)]
            results += [{"part": "after_clear", "level_db": level_db, "audio": client.audio_after_clear}]
    return results


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    levels: dict[str, Any] = {}
    for level_db in LEVELS_DB:
        mine = [r for r in results if r.get("level_db") == level_db]
        replies = [r for r in mine if r["part"] == "reply"]
        done = [r for r in replies if r["ok"]]
        barges = [r for r in mine if r["part"] == "barge_in"]
        times = [r["barge_in_ms"] for r in barges if r["ok"]]
        levels[f"{level_db:g} dB"] = {
            "replies": len(replies), "answered": len(done),
            "self_interrupted": sum(r["self_interrupted"] for r in done),
            "speech_heard_over_reply": sum(r["speech_heard"] for r in done),
            "reply_audio_s": round(sum(r["audio_s"] for r in done), 1),
            "barge_ins": len(barges), "barge_ins_failed": len(barges) - len(times),
            "barge_ins_not_heard": sum(r["why"] == "the person over the reply was not heard" for r in barges),
            "barge_in_ms_p50": percentile(times, 50), "barge_in_ms_p95": percentile(times, 95),
            "audio_after_clear": sum(r["audio"] for r in mine if r["part"] == "after_clear"),
        }
    return {"synthetic": levels}
