"""A person going on through long pauses: does the assistant talk into them?

Each monologue is one sentence (or a two-word phrase) with pauses of 0.7-1.5 s inside
it, streamed at real-time pace; the reply to the whole is waited for after its end.
Measured per kind of material (never mixed):

- ``synthetic-commas``: four long everyday sentences said whole by espeak-ng in five
  voices, each of the synthesizer's own pauses (commas, mostly) stretched to a long
  one, so the voice before the pause keeps its going-on melody;
- ``neural-commas``: the same sentences said by Piper (a neural voice trained on a
  person's reading, with more of a person's melody than espeak-ng's rules), likewise.

The one human recording cannot make this material: cut between its words, each piece
is a one- or two-word utterance ("Ever.", "No matter.") said with a falling voice, as
finished to the turn model (and to a listener) as the one-word answers the assistant
must answer.

Figures: the seconds of reply audio the person heard before they had finished, per
minute of monologue (the audio of a reply from its first byte until its clear, or the
end of the monologue, whichever is first); the share of monologues with any reply audio
before their end (false cut-offs); the replies that came after the end, and how soon.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitoring.bench.kinds import by_kind
from monitoring.bench.material import VOICES, NeuralVoice, spoken
from monitoring.clients.voice_client import FRAME_BYTES, VoiceClient, frames_of, is_voiced, quiet_frame
from monitoring.metrics.monitor import percentile

PAUSES_MS = (700, 1000, 1300, 1500)
SENTENCES = (
    "When I was young, we lived in a small house by the sea, and every summer my father took us "
    "out on his boat.",
    "I think the best thing about working from home, apart from the quiet, is that I can cook a "
    "proper lunch.",
    "Last weekend we drove up to the mountains, stopped at a little cafe for breakfast, and walked "
    "until it got dark.",
    "My sister, who lives in Chicago, is coming to visit next month, so I need to clean the spare room.",
)
# A synthesizer's own pause at a comma (espeak-ng: 140-200 ms; Piper: 240-540 ms, and
# 100-140 ms at some stops inside words, which are left alone): where a person might stop longer.
ESPEAK_GAP_FRAMES = 7
PIPER_GAP_FRAMES = 10
LEAD_FRAMES = 15
FRAME_S = FRAME_BYTES / 2 / 16000


@dataclass(frozen=True)
class Monologue:
    kind: str
    name: str
    pieces: tuple[bytes, ...]  # speech between the pauses, 16 kHz mono PCM16
    pauses_ms: tuple[int, ...]  # one fewer than the pieces


def _gaps(frames: list[bytes], min_frames: int) -> list[tuple[int, int]]:
    voiced = [is_voiced(f) for f in frames]
    gaps, index = [], 0
    while index < len(voiced):
        if voiced[index]:
            index += 1
            continue
        end = index
        while end < len(voiced) and not voiced[end]:
            end += 1
        if index > 0 and end < len(voiced) and end - index >= min_frames:
            gaps.append((index, end))
        index = end
    return gaps


def _stretched(kind: str, name: str, pcm: bytes, min_gap: int, first_pause: int) -> Monologue:
    """``pcm`` cut at its own pauses, each to be stretched to the next of ``PAUSES_MS``."""
    frames = frames_of(pcm)
    voiced = [i for i, f in enumerate(frames) if is_voiced(f)]
    frames = frames[voiced[0] : voiced[-1] + 1]
    pieces, pauses, start = [], [], 0
    for gap_start, gap_end in _gaps(frames, min_gap):
        pieces.append(b"".join(frames[start:gap_start]))
        pauses.append(PAUSES_MS[(first_pause + len(pauses)) % len(PAUSES_MS)])
        start = gap_end
    pieces.append(b"".join(frames[start:]))
    return Monologue(kind, name, tuple(pieces), tuple(pauses))


def synthetic_commas() -> list[Monologue]:
    """Every sentence in every espeak-ng voice; the pauses cycle through ``PAUSES_MS``."""
    out: list[Monologue] = []
    for voice in VOICES:
        for number, sentence in enumerate(SENTENCES, 1):
            pcm, first = spoken(sentence, voice, 170), sum(len(m.pauses_ms) for m in out)
            out.append(_stretched("synthetic-commas", f"{voice}/{number}", pcm, ESPEAK_GAP_FRAMES, first))
    return out


def neural_commas() -> list[Monologue]:
    """Every sentence said by the Piper voice."""
    voice, out = NeuralVoice(), []
    for number, sentence in enumerate(SENTENCES, 1):
        first = sum(len(m.pauses_ms) for m in out)
        pcm = voice.say(sentence)
        out.append(_stretched("neural-commas", f"piper/{number}", pcm, PIPER_GAP_FRAMES, first))
    return out


def _played_over(client: VoiceClient, since: float, until: float) -> tuple[float, int]:
    """Seconds of reply audio heard between ``since`` and ``until``, and the replies."""
    seconds, replies = 0.0, 0
    for record in list(client.turns.values()):
        start = record.first_audio_at
        if start is None or start <= since or start >= until or not record.sample_rate:
            continue
        stop = min(until, record.cleared_at or until)
        audio_s = record.audio_bytes / 2 / record.sample_rate
        seconds += max(0.0, min(audio_s, stop - start))
        replies += 1
    return seconds, replies


def speak_each(client: VoiceClient, monologues: list[Monologue], rng: np.random.Generator,
               timeout_s: float, finish: Callable[[], None],
               log: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    results = []
    for monologue in monologues:
        before = client.latest_turn()
        frames = [quiet_frame(rng) for _ in range(LEAD_FRAMES)]
        for index, piece in enumerate(monologue.pieces):
            frames += frames_of(piece)
            if index < len(monologue.pauses_ms):
                frames += [quiet_frame(rng) for _ in range(monologue.pauses_ms[index] // 20)]
        started = time.monotonic()

        def answered_after_end(before: int = before, started: float = started) -> bool:
            ended = client.stream_last_voiced_at or started
            return any(t.first_audio_at is not None and t.first_audio_at > ended
                       for n, t in client.turns.items() if n > before)

        client.stream(frames, until=answered_after_end, max_s=timeout_s, rng=rng)
        ended = client.stream_last_voiced_at or time.monotonic()
        over_s, replies_over = _played_over(client, started, ended)
        after = [t.first_audio_at for n, t in client.turns.items()
                 if n > before and t.first_audio_at is not None and t.first_audio_at > ended]
        result = {
            "kind": monologue.kind, "name": monologue.name, "pauses_ms": list(monologue.pauses_ms),
            "speech_s": round(len(frames) * FRAME_S - LEAD_FRAMES * FRAME_S, 2),
            "over_s": round(over_s, 3), "replies_over": replies_over,
            "answer_after_end_ms": round((min(after) - ended) * 1000, 1) if after else None,
        }
        results.append(result)
        log(result)
        finish()
    return results


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    kinds: dict[str, dict[str, Any]] = {}
    for kind, mine in by_kind(results).items():
        minutes = sum(r["speech_s"] for r in mine) / 60
        over = sum(r["over_s"] for r in mine)
        cut = sum(r["replies_over"] > 0 for r in mine)
        answers = [r["answer_after_end_ms"] for r in mine if r["answer_after_end_ms"] is not None]
        kinds[kind] = {
            "monologues": len(mine), "pauses": sum(len(r["pauses_ms"]) for r in mine),
            "minutes": round(minutes, 2), "over_s": round(over, 2),
            "over_s_per_minute": round(over / minutes, 2) if minutes else None,
            "cut_off": cut, "cut_off_share": round(cut / len(mine), 3),
            "answered_after_end": len(answers),
            "answer_after_end_ms": {"p50": percentile(answers, 50), "p95": percentile(answers, 95),
                                    "mean": round(statistics.fmean(answers), 1) if answers else None},
        }
    return kinds
