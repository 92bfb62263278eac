"""One client's conversation with the server, and the parts of ``make bench`` that are
measured on it: voice-to-voice, barge-ins, sentences said in two halves
(``monitoring.bench.voice`` runs them and sums them up).

Like a page, the client hears each reply out (streaming the room meanwhile) before it
reports ``playback_done``, in the turns and after each barge-in.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from monitoring.bench.clips import paused_sentences
from monitoring.clients.voice_client import FRAME_BYTES, VoiceClient, frames_of, quiet_frame

LEAD_FRAMES = 15  # 300 ms of room noise before each clip
MID_SENTENCE_PAUSES_MS = (400, 500, 600)


class Bench:
    def __init__(self, client: VoiceClient, timeout_s: float, verbose: bool) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.verbose = verbose
        self.rng = np.random.default_rng(1)
        self.audio_after_clear_elsewhere = 0  # in the parts' own conversations

    @contextmanager
    def own_conversation(self, url: str) -> Iterator[None]:
        """A part in a conversation of its own: what the session learnt in an earlier
        part (a patient listener after the barge-ins) does not carry into it."""
        shared = self.client
        with VoiceClient(url) as fresh:
            self.client = fresh
            try:
                yield
            finally:
                self.client = shared
                self.audio_after_clear_elsewhere += fresh.audio_after_clear

    def lead(self) -> list[bytes]:
        return [quiet_frame(self.rng) for _ in range(LEAD_FRAMES)]

    def reply_done_after(self, before: int) -> Callable[[], bool]:
        def done() -> bool:
            turn = self.client.latest_turn()
            return turn > before and self.client.turns[turn].done_at is not None
        return done

    def reply_played_after(self, before: int) -> Callable[[], bool]:
        """The reply of a turn after ``before`` is sent, and would have been played to its
        end by now: a page reports ``playback_done`` only then, and meanwhile its
        microphone hears the room (what lets the echo gate rule its own echo out)."""
        sent = self.reply_done_after(before)

        def played() -> bool:
            if not sent():
                return False
            record = self.client.turns[self.client.latest_turn()]
            seconds = record.audio_bytes / 2 / record.sample_rate if record.sample_rate else 0.0
            start = record.first_audio_at
            return start is None or time.monotonic() >= start + seconds
        return played

    def finish_turn(self) -> None:
        """Tell the server the reply has been played, and wait until it listens again."""
        turn = self.client.latest_turn()
        if turn:
            self.client.send_json({"type": "playback_done", "turn": turn})
        self.client.wait_for(lambda: self.client.last_state() == "listening", timeout=10)

    def settle(self) -> None:
        """Let every turn in flight finish (room noise meanwhile), as a listener would."""
        def quiet() -> bool:
            turn = self.client.latest_turn()
            done = turn == 0 or self.client.turns[turn].done_at is not None
            if done and turn:
                self.client.send_json({"type": "playback_done", "turn": turn})
            return done and self.client.last_state() == "listening"

        self.client.stream([], until=quiet, max_s=self.timeout_s, rng=self.rng)

    def log(self, result: dict[str, Any]) -> None:
        if self.verbose:
            print(json.dumps(result), file=sys.stderr)

    def voice_to_voice(self, clips: list[tuple[str, bytes]], rounds: int) -> list[dict[str, Any]]:
        results = []
        for round_index in range(rounds):
            for name, pcm in clips:
                before = self.client.latest_turn()
                self.client.stream(self.lead() + frames_of(pcm), until=self.reply_played_after(before),
                                   max_s=self.timeout_s, rng=self.rng)
                turn = self.client.latest_turn()
                record = self.client.turns.get(turn) if turn > before else None
                ok = record is not None and record.v2v_ms is not None
                result = {
                    "clip": name, "round": round_index, "ok": ok,
                    "turn": turn if record else None,
                    "v2v_ms": round(record.v2v_ms, 1) if ok else None,  # type: ignore[union-attr]
                    "transcript": record.transcript if record else None,
                    "reply": record.reply_text if record else None,
                    "timings": record.timings if record else {},
                }
                results.append(result)
                self.log(result)
                self.finish_turn()
        return results

    def barge_ins(self, clips: list[tuple[str, bytes]], count: int) -> list[dict[str, Any]]:
        """Ask, and as soon as the answer is heard, talk over it with the next question."""
        results = []
        for index in range(count):
            question = clips[(2 * index) % len(clips)][1]
            interruption = clips[(2 * index + 1) % len(clips)][1]
            before = self.client.latest_turn()

            def answering(before: int = before) -> bool:
                turn = self.client.latest_turn()
                return turn > before and self.client.turns[turn].first_audio_at is not None

            self.client.stream(self.lead() + frames_of(question), until=answering,
                               max_s=self.timeout_s, rng=self.rng)
            target = self.client.latest_turn()
            if target <= before or self.client.turns[target].first_audio_at is None:
                results.append({"ok": False, "reason": "no answer to interrupt"})
                self.finish_turn()
                continue
            self.client.stream(frames_of(interruption), until=self.reply_played_after(target),
                               max_s=self.timeout_s, rng=self.rng)
            spoke_at = self.client.stream_first_voiced_at
            cleared_at = self.client.event_time("clear", turn=target, reason="barge_in")
            ok = spoke_at is not None and cleared_at is not None
            result = {"ok": ok, "turn": target,
                      "barge_in_ms": round((cleared_at - spoke_at) * 1000, 1) if ok else None}  # type: ignore[operator]
            results.append(result)
            self.log(result)
            self.finish_turn()
        return results

    def false_cut_offs(self) -> list[dict[str, Any]]:
        results = []
        for name, first, second in paused_sentences():
            for pause_ms in MID_SENTENCE_PAUSES_MS:
                before = self.client.latest_turn()
                pause = [quiet_frame(self.rng) for _ in range(pause_ms * 2 * 16 // FRAME_BYTES)]
                frames = self.lead() + frames_of(first) + pause + frames_of(second)
                started = time.monotonic()
                self.client.stream(frames, until=self.reply_done_after(before),
                                   max_s=self.timeout_s, rng=self.rng)
                finished_at = self.client.stream_last_voiced_at or time.monotonic()
                early = self.client.first_audio_since(started)
                cut = early is not None and early < finished_at
                self.finish_turn()
                self.settle()
                result = {"sentence": name, "pause_ms": pause_ms, "cut_off": cut,
                          "transcript": self.client.turns[self.client.latest_turn()].transcript}
                results.append(result)
                self.log(result)
        return results
