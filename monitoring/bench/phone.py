"""Phone-call benchmark: voice-to-voice over Twilio Media Streams, and what the telephone
audio conversion costs.

    python -m monitoring.bench.phone [--rounds N] [--out FILE]     (make bench-phone)

Starts the app (embedded models) on a free port and calls it with the scripted Twilio
(``monitoring/clients/twilio_client.py``): the greeting, then every clip of the browser
benchmark's playlist, converted to 8 kHz µ-law and streamed in 20 ms frames at real-time
pace, each reply played to its end (its last mark echoed) before the next question.
Voice-to-voice is the browser's definition: from the last voiced frame sent to the first
reply audio received. The thinking cue is off for the run, so that first audio is the
reply's. The same clips then go through the browser protocol on the same server, for a
comparison made under the same conditions. Last, the conversion is timed on its own:
per 20 ms frame in (µ-law 8 kHz to PCM 16 kHz, and the whole message: JSON, base64,
conversion) and per 20 ms frame out (the voice's rate to µ-law 8 kHz, and the message).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.phone import twilio_messages
from core.phone.audio import InboundAudio, OutboundAudio
from core.phone.routes import MEDIA_PATH
from monitoring.bench.clips import playlist
from monitoring.bench.conversation import Bench
from monitoring.clients.twilio_client import (
    TwilioCall,
    incoming_call,
    line_noise,
    new_call_sid,
    phone_frames,
    stream_instructions,
)
from monitoring.clients.voice_client import VoiceClient
from monitoring.metrics.monitor import percentile
from monitoring.servers.server_process import ROOT, ServerProcess

LEAD_FRAMES = 15  # 300 ms of a quiet line before each question (as the browser bench)
PAUSE_FRAMES = 25  # 500 ms after a reply has played, before the next question
VOICE_RATE = 22_050  # the embedded voice's rate (Piper)


def figures(values: list[float]) -> dict[str, float | None]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "min": min(values, default=None), "max": max(values, default=None)}


class PhoneBench:
    def __init__(self, call: TwilioCall, timeout_s: float, verbose: bool) -> None:
        self.call = call
        self.timeout_s = timeout_s
        self.verbose = verbose
        self.rng = np.random.default_rng(1)

    def quiet(self, frames: int) -> list[bytes]:
        return [line_noise(self.rng) for _ in range(frames)]

    def greeting(self) -> float | None:
        started = time.monotonic()
        self.call.begin()
        self.call.stream([], until=self.call.reply_played(0), max_s=self.timeout_s, rng=self.rng)
        first = self.call.first_voiced_media_since(started)
        return None if first is None else round((first - started) * 1000, 1)

    def turns(self, clips: list[tuple[str, bytes]], rounds: int) -> list[dict[str, Any]]:
        results = []
        for round_index in range(rounds):
            for name, pcm in clips:
                before = self.call.last_played_turn()
                self.call.stream(self.quiet(LEAD_FRAMES) + phone_frames(pcm),
                                 until=self.call.reply_played(before), max_s=self.timeout_s, rng=self.rng)
                asked = self.call.log.last_voiced_sent_at
                media = self.call.received("media", since=asked or 0.0)
                voiced = self.call.first_voiced_media_since(asked or 0.0)
                ok = asked is not None and bool(media) and self.call.reply_played(before)()
                result = {"clip": name, "round": round_index, "ok": ok,
                          "v2v_ms": round((media[0].at - asked) * 1000, 1) if ok else None,
                          "v2v_voiced_ms": round((voiced - asked) * 1000, 1) if ok and voiced else None}
                results.append(result)
                if self.verbose:
                    print(json.dumps(result), file=sys.stderr)
                self.call.stream(self.quiet(PAUSE_FRAMES), rng=self.rng)
        return results


def best_us(action: Callable[[], object], repeat: int = 2000, rounds: int = 5) -> float:
    """The best of ``rounds`` runs, in µs per call."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            action()
        best = min(best, (time.perf_counter() - started) / repeat)
    return round(best * 1e6, 1)


def conversion_cost() -> dict[str, float]:
    """µs per 20 ms frame, each direction: the conversion, and the whole message's handling."""
    rng = np.random.default_rng(0)
    speech_16k = (rng.normal(0, 3000, 16_000 * 2)).astype("<i2").tobytes()
    inbound_frames = phone_frames(speech_16k)
    inbound = InboundAudio()
    media = [json.dumps({"event": "media", "sequenceNumber": "1", "streamSid": "MZ0",
                         "media": {"track": "inbound", "chunk": "1", "timestamp": "0",
                                   "payload": base64.b64encode(f).decode("ascii")}})
             for f in inbound_frames]
    i = iter(range(10**9))

    def decode_only() -> object:
        return inbound.convert(inbound_frames[next(i) % len(inbound_frames)])

    def inbound_message() -> object:
        parsed = twilio_messages.parse(media[next(i) % len(media)])
        return inbound.convert(parsed.payload)  # type: ignore[union-attr]

    voice = (rng.normal(0, 3000, VOICE_RATE * 2)).astype("<i2").tobytes()
    piece = VOICE_RATE // 50 * 2  # 20 ms of the voice, in bytes
    outbound = OutboundAudio()

    def encode_only() -> object:
        start = (next(i) * piece) % (len(voice) - piece)
        return outbound.add(voice[start : start + piece], VOICE_RATE)

    def outbound_message() -> object:
        return [twilio_messages.media_message("MZ0", f) for f in encode_only()]  # type: ignore[union-attr]

    return {"in_convert_us": best_us(decode_only), "in_message_us": best_us(inbound_message),
            "out_convert_us": best_us(encode_only), "out_message_us": best_us(outbound_message)}


def browser_turns(url: str, clips: list[tuple[str, bytes]], timeout_s: float) -> list[dict[str, Any]]:
    client = VoiceClient(url)
    try:
        client.start()
        return Bench(client, timeout_s, verbose=False).voice_to_voice(clips, 1)
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="times to play the clip list on the call")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for a reply")
    parser.add_argument("--out", type=Path, help="also write the JSON (with every turn) here")
    parser.add_argument("--verbose", action="store_true", help="print each turn to stderr")
    args = parser.parse_args(argv)

    clips = playlist()
    (ROOT / "tmp").mkdir(exist_ok=True)
    env = {"VOICECHAT_GREETING_AFTER_MS": "0", "VOICECHAT_THINKING_CUE_MS": "0",
           "VOICECHAT_PHONE_ENABLED": "1"}
    server = ServerProcess(env=env, log_path=ROOT / "tmp" / "phone-bench-server.log").start()
    try:
        call_sid = new_call_sid()
        instructions = stream_instructions(incoming_call(server.http_url, call_sid).text)
        call = TwilioCall(instructions, call_sid, url=f"ws://127.0.0.1:{server.port}{MEDIA_PATH}")
        try:
            bench = PhoneBench(call, args.timeout, args.verbose)
            greeting_ms = bench.greeting()
            phone = bench.turns(clips, args.rounds)
            call.stop()
        finally:
            call.close()
        browser = browser_turns(server.ws_url, clips, args.timeout)
    finally:
        server.stop()
    phone_v2v = [r["v2v_ms"] for r in phone if r["ok"]]
    browser_v2v = [r["v2v_ms"] for r in browser if r["ok"]]
    summary = {
        "bench": "phone",
        "stack": "embedded",
        "clips": len(clips),
        "greeting_first_audio_ms": greeting_ms,
        "phone_turns": len(phone),
        "phone_failed_turns": sum(not r["ok"] for r in phone),
        "phone_v2v_ms": figures(phone_v2v),
        "phone_v2v_first_voiced_ms": figures([r["v2v_voiced_ms"] for r in phone if r["v2v_voiced_ms"]]),
        "browser_turns": len(browser),
        "browser_v2v_ms": figures(browser_v2v),
        "conversion_us_per_20ms_frame": conversion_cost(),
    }
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps({**summary, "per_turn_phone": phone, "per_turn_browser": browser},
                                       indent=2))
    return 0 if summary["phone_failed_turns"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
