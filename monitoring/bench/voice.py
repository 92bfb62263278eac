"""Conversation benchmark: real speech over the WebSocket at real-time pace.

    python -m monitoring.bench [--url ws://...] [--rounds N] [--barge-ins N] [--out FILE]

Without ``--url`` it starts the app (embedded models) on a free port and stops it at
the end. Its measurements, printed as one JSON line (``--parts`` picks some):

- voice-to-voice: from the last voiced frame sent to the first reply audio received;
- barge-in: from the first voiced frame sent over a playing reply to the ``clear``;
- false cut-offs: sentences with a 400-600 ms pause in the middle; the share that got
  reply audio before the person had finished;
- short answers: one-word answers said plainly and quickly, the share answered
  (``monitoring.bench.short_answers``);
- monologues: sentences with 0.7-1.5 s pauses inside, the reply audio heard before the
  person finished (``monitoring.bench.monologue``);
- backchannels: "mhm", "yeah" said over a reply, the share that stopped it
  (``monitoring.bench.backchannels``);
- echo: the reply leaking into the microphone at -10 and -20 dB, the replies that
  interrupted themselves, and barge-in over the echo (``monitoring.bench.echo``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from monitoring.bench import backchannels, echo, monologue, short_answers
from monitoring.bench.clips import monologue_material, playlist
from monitoring.bench.conversation import Bench
from monitoring.bench.material import one_word_answers
from monitoring.bench.targets import missed_targets, report
from monitoring.clients.voice_client import (
    VoiceClient,
)
from monitoring.metrics.monitor import TURN_STAGES, percentile
from monitoring.servers.server_process import ROOT, ServerProcess

PARTS = ("turns", "barge-ins", "cut-offs", "short-answers", "monologues", "backchannels", "echo")
KINDS = {"question": "synthetic-questions", "beckett": "human-phrases"}  # clip name → material


def summarize(turns: list[dict[str, Any]], barge_ins: list[dict[str, Any]],
              cut_offs: list[dict[str, Any]]) -> dict[str, Any]:
    v2v = [r["v2v_ms"] for r in turns if r["ok"]]
    by_kind = {kind: [r["v2v_ms"] for r in turns if r["ok"] and r["clip"].startswith(prefix)]
               for prefix, kind in KINDS.items()}
    stages: dict[str, dict[str, float | None]] = {}
    for stage in TURN_STAGES:
        values = [r["timings"][stage] for r in turns if r["ok"] and stage in r["timings"]]
        stages[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    reactions = [r["barge_in_ms"] for r in barge_ins if r["ok"]]
    return {
        "turns": len(turns),
        "failed_turns": sum(not r["ok"] for r in turns),
        "v2v_ms": {
            "p50": percentile(v2v, 50), "p95": percentile(v2v, 95),
            "min": min(v2v, default=None), "max": max(v2v, default=None),
            "mean": round(statistics.fmean(v2v), 1) if v2v else None,
        },
        "v2v_ms_by_kind": {kind: {"n": len(values), "p50": percentile(values, 50),
                                  "p95": percentile(values, 95)} for kind, values in by_kind.items()},
        "stages_after_end_of_speech_ms": stages,
        "speculative_replies": sum(1 for r in turns if r["ok"] and r["timings"].get("speculative")),
        "barge_in_ms": {"n": len(reactions), "failed": len(barge_ins) - len(reactions),
                        "p50": percentile(reactions, 50), "p95": percentile(reactions, 95),
                        "max": max(reactions, default=None)},
        "false_cut_offs": {"n": len(cut_offs), "cut": sum(r["cut_off"] for r in cut_offs),
                           "share": round(sum(r["cut_off"] for r in cut_offs) / len(cut_offs), 3)
                           if cut_offs else None},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--url", help="WebSocket URL of a running server (default: start one)")
    parser.add_argument("--rounds", type=int, default=2, help="times to play the clip list")
    parser.add_argument("--barge-ins", type=int, default=20, help="interruptions to measure")
    parser.add_argument("--no-cut-offs", action="store_true", help="skip the paused sentences")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for a reply")
    parser.add_argument("--out", type=Path, help="also write the JSON (with every turn) here")
    parser.add_argument("--verbose", action="store_true", help="print each turn to stderr")
    args = parser.parse_args(argv)

    clips = playlist()
    env = {"VOICECHAT_GREETING_AFTER_MS": "0"}  # the benchmark speaks first anyway
    server = None if args.url else ServerProcess(env=env, log_path=ROOT / "tmp" / "bench-server.log")
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
            bench = Bench(client, args.timeout, args.verbose)
            parts = set(args.parts) - ({"cut-offs"} if args.no_cut_offs else set())
            turns = bench.voice_to_voice(clips, args.rounds) if "turns" in parts else []
            barge_ins = bench.barge_ins(clips, args.barge_ins) if "barge-ins" in parts else []
            cut_offs: list[dict[str, Any]] = []
            if "cut-offs" in parts:
                with bench.own_conversation(url):
                    cut_offs = bench.false_cut_offs()
            short = (short_answers.ask_each(url, one_word_answers(), bench.log)
                     if "short-answers" in parts else [])
            nods = (backchannels.say_each(url, [c for n, c in clips if n.startswith("question")], bench.log)
                    if "backchannels" in parts else [])
            echoes = (echo.run(url, [c for n, c in clips if n.startswith("question")], bench.log)
                      if "echo" in parts else [])
            talks: list[dict[str, Any]] = []
            if "monologues" in parts:
                with bench.own_conversation(url):
                    talks = monologue.speak_each(bench.client, monologue_material(), bench.rng, args.timeout,
                                                 bench.settle, bench.log)
            elapsed = time.monotonic() - started
            audio_after_clear = client.audio_after_clear + bench.audio_after_clear_elsewhere
        finally:
            client.close()
        rss_after = server.worker_rss_bytes() if server else None
    finally:
        if server is not None:
            server.stop()
    summary = {
        "bench": "conversation",
        "stack": "embedded" if server else "external",
        "clips": len(clips),
        **summarize(turns, barge_ins, cut_offs),
        "short_answers": short_answers.summarize(short),
        "monologues": monologue.summarize(talks),
        "backchannels": backchannels.summarize(nods),
        "echo": echo.summarize(echoes) if echoes else {},
        "audio_after_clear": audio_after_clear,
        "server_rss_mb": {
            "after_warm_up": round(rss_idle / 2**20, 1) if rss_idle else None,
            "after_run": round(rss_after / 2**20, 1) if rss_after else None,
        },
        "wall_s": round(elapsed, 1),
    }
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps({**summary, "per_turn": turns, "barge_ins": barge_ins,
                                        "cut_offs": cut_offs, "short_answers_each": short,
                                        "monologues_each": talks, "backchannels_each": nods,
                                        "echo_each": echoes}, indent=2))
    return report(missed_targets(summary))


if __name__ == "__main__":
    sys.exit(main())
