"""Voice-to-voice benchmark: real speech over the WebSocket at real-time pace.

    python -m monitoring.bench [--url ws://...] [--rounds N] [--out FILE]

Without ``--url`` it starts the app (embedded models) on a free port and stops it at
the end. Each clip is streamed as 20 ms frames, then room noise until the reply is
done; voice-to-voice latency is from the last voiced frame sent to the first reply
audio byte received. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from core.segmenter import FRAME_BYTES as VAD_FRAME_BYTES
from core.segmenter import Segmenter, SegmenterConfig, Utterance
from monitoring.monitor import percentile
from monitoring.server_process import ROOT, ServerProcess
from monitoring.voice_client import VoiceClient, frames_of, quiet_frame, read_wav_16k_mono

FIXTURES = ROOT / "tests" / "fixtures"
LEAD_FRAMES = 15  # 300 ms of room noise before each clip


def phrases(pcm: bytes) -> list[bytes]:
    """Cut a recording into its spoken phrases (as a person pausing between them)."""
    segmenter = Segmenter(SegmenterConfig(end_silence_ms=300, pre_roll_ms=150, hangover_ms=150))
    clips = []
    padded = pcm + b"\x00" * (VAD_FRAME_BYTES * 20)
    for i in range(0, len(padded) - VAD_FRAME_BYTES + 1, VAD_FRAME_BYTES):
        for event in segmenter.process(padded[i : i + VAD_FRAME_BYTES]):
            if isinstance(event, Utterance):
                clips.append(event.audio)
    return clips


def playlist() -> list[tuple[str, bytes]]:
    clips = [(p.stem, read_wav_16k_mono(p)) for p in sorted(FIXTURES.glob("question_*.wav"))]
    for n, clip in enumerate(phrases(read_wav_16k_mono(FIXTURES / "beckett.wav")), 1):
        clips.append((f"beckett_{n}", clip))
    return clips


def run_turns(client: VoiceClient, clips: list[tuple[str, bytes]], rounds: int,
              timeout_s: float, verbose: bool) -> list[dict[str, Any]]:
    import numpy as np

    rng = np.random.default_rng(1)
    results = []
    for round_index in range(rounds):
        for name, pcm in clips:
            before = client.latest_turn()
            frames = [quiet_frame(rng) for _ in range(LEAD_FRAMES)] + frames_of(pcm)

            def reply_done(before: int = before) -> bool:
                turn = client.latest_turn()
                return turn > before and client.turns[turn].done_at is not None

            client.stream(frames, until=reply_done, max_s=timeout_s, rng=rng)
            turn = client.latest_turn()
            record = client.turns.get(turn) if turn > before else None
            ok = record is not None and record.v2v_ms is not None
            result = {
                "clip": name, "round": round_index, "ok": ok,
                "turn": turn if record else None,
                "v2v_ms": round(record.v2v_ms, 1) if ok else None,
                "transcript": record.transcript if record else None,
                "reply": record.reply_text if record else None,
                "timings": record.timings if record else {},
            }
            results.append(result)
            if verbose:
                print(json.dumps(result), file=sys.stderr)
            if record is not None:
                client.send_json({"type": "playback_done", "turn": turn})
                client.wait_for(lambda: client.last_state() == "listening", timeout=10)
    return results


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    v2v = [r["v2v_ms"] for r in results if r["ok"]]
    stages: dict[str, dict[str, float | None]] = {}
    for stage in ("stt_ms", "llm_first_token_ms", "llm_first_sentence_ms", "tts_first_audio_ms"):
        values = [r["timings"][stage] for r in results if r["ok"] and stage in r["timings"]]
        stages[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    return {
        "turns": len(results),
        "failed_turns": sum(not r["ok"] for r in results),
        "v2v_ms": {
            "p50": percentile(v2v, 50), "p95": percentile(v2v, 95),
            "min": min(v2v, default=None), "max": max(v2v, default=None),
            "mean": round(statistics.fmean(v2v), 1) if v2v else None,
        },
        "stages_after_end_of_turn_ms": stages,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="WebSocket URL of a running server (default: start one)")
    parser.add_argument("--rounds", type=int, default=2, help="times to play the clip list")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for a reply")
    parser.add_argument("--out", type=Path, help="also write the JSON (with every turn) here")
    parser.add_argument("--verbose", action="store_true", help="print each turn to stderr")
    args = parser.parse_args(argv)

    clips = playlist()
    server = None if args.url else ServerProcess(log_path=ROOT / "tmp" / "bench-server.log")
    if server is not None:
        (ROOT / "tmp").mkdir(exist_ok=True)
        server.start()
    try:
        url = args.url or server.ws_url  # type: ignore[union-attr]
        rss_idle = server.worker_rss_bytes() if server else None
        client = VoiceClient(url)
        try:
            client.start()
            started = time.monotonic()
            results = run_turns(client, clips, args.rounds, args.timeout, args.verbose)
            elapsed = time.monotonic() - started
        finally:
            client.close()
        rss_after = server.worker_rss_bytes() if server else None
    finally:
        if server is not None:
            server.stop()
    summary = {
        "bench": "voice_to_voice",
        "stack": "embedded" if server else "external",
        "clips": len(clips),
        **summarize(results),
        "server_rss_mb": {
            "after_warm_up": round(rss_idle / 2**20, 1) if rss_idle else None,
            "after_run": round(rss_after / 2**20, 1) if rss_after else None,
        },
        "wall_s": round(elapsed, 1),
    }
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps({**summary, "per_turn": results}, indent=2))
    return 0 if summary["failed_turns"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
