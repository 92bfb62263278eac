"""One-word answers over the WebSocket: "Yes.", "No.", "Okay." said alone, as answers
to the assistant are. Each voice's six words go to one session (no word twice, so the
repeat filter has nothing to do); a word is answered when a reply to it is heard.
Figures per kind of material (``monitoring.bench.material``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from monitoring.bench.kinds import by_kind
from monitoring.bench.material import Clip
from monitoring.clients.voice_client import VoiceClient, frames_of, quiet_frame

LEAD_FRAMES = 15
TIMEOUT_S = 10.0
SPELLINGS = {"seven": ("seven", "7")}  # what the recognizer may write for a word


def heard_right(word: str, transcript: str) -> bool:
    return any(s in transcript.lower() for s in SPELLINGS.get(word.lower(), (word.lower(),)))


def _answered_after(client: VoiceClient, before: int) -> Callable[[], bool]:
    def answered() -> bool:
        turn = client.latest_turn()
        return turn > before and client.turns[turn].done_at is not None
    return answered


def ask_each(url: str, clips: list[Clip], log: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    results = []
    rng = np.random.default_rng(3)
    sessions: dict[tuple[str, str], list[Clip]] = {}
    for clip in clips:
        sessions.setdefault((clip.kind, clip.voice), []).append(clip)
    for group in sessions.values():
        with VoiceClient(url) as client:
            for clip in group:
                before = client.latest_turn()
                lead = [quiet_frame(rng) for _ in range(LEAD_FRAMES)]
                client.stream(lead + frames_of(clip.pcm), until=_answered_after(client, before),
                              max_s=TIMEOUT_S, rng=rng)
                turn = client.latest_turn()
                record = client.turns.get(turn) if turn > before else None
                answered = record is not None and record.done_at is not None and bool(record.transcript)
                heard = (record.transcript or "") if record else ""
                result = {"kind": clip.kind, "voice": clip.voice, "word": clip.word, "answered": answered,
                          "heard_right": heard_right(clip.word, heard), "transcript": heard or None}
                results.append(result)
                log(result)
                if turn > before:
                    client.send_json({"type": "playback_done", "turn": turn})
                client.wait_for(lambda c=client: c.last_state() == "listening", timeout=10)
    return results


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    kinds: dict[str, dict[str, Any]] = {}
    for kind, mine in by_kind(results).items():
        answered = sum(r["answered"] for r in mine)
        kinds[kind] = {"n": len(mine), "answered": answered, "share": round(answered / len(mine), 3),
                       "heard_right": sum(r["heard_right"] for r in mine)}
    return kinds
