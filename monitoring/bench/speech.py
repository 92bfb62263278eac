"""`python -m monitoring.bench.speech` (``make bench-speech``): the app around a
speech-to-speech API, each API's scripted stand-in answering.

The server runs in its own process with the simulated chained providers (they take the
turns and answer when the API cannot); the stand-in runs in this one, so both sides
stamp time on the same monotonic clock. Per API:

- **added latency**: typed questions answered at once by the stand-in; from its first
  audio delta leaving to the first reply audio at the client, p50/p95 (target ≤ 20 ms);
- **barge-in**: recorded questions spoken over answers streaming in real time, whose
  audio goes on for five pieces after the cancel; first voiced frame → ``clear`` p95
  (target ≤ 150 ms), and audio of a cancelled answer at the client after its clear (0);
- **faults**: each misbehaviour five times on a typed question (late audio after the
  person stops the answer, an unknown event, a malformed one, the socket dropped
  mid-answer, a stall, a rate limit). Silent: neither an answer nor an error in 10 s
  (target 0). Recovered: an answer's first audio within 5 s of the question, asking
  again at once after an error (target 100 %).

Prints one JSON line; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from monitoring.bench.clips import playlist
from monitoring.bench.conversation import Bench
from monitoring.bench.targets import report
from monitoring.clients.voice_client import VoiceClient
from monitoring.metrics.series import percentile
from monitoring.servers.server_process import ServerProcess
from monitoring.servers.simulated import simulated_env
from monitoring.servers.speech.faults import Fault
from monitoring.servers.speech.standin import SpeechStandIn

APIS = ("openai-realtime", "gemini-live")
ADDED_P95_MS = 20.0
BARGE_IN_P95_MS = 150.0
RECOVERED_WITHIN_S = 5.0
SILENT_AFTER_S = 10.0


def serve(api: SpeechStandIn) -> ServerProcess:
    env = simulated_env({"VOICECHAT_SPEECH_PROVIDER": api.dialect, "VOICECHAT_SPEECH_BASE_URL": api.url,
                         "VOICECHAT_SPEECH_API_KEY": "sk-bench", "VOICECHAT_SPEECH_RESPONSE_TIMEOUT_S": "2",
                         "VOICECHAT_DB_PATH": "",  # one person asking fast: no typed-turn budget
                         "VOICECHAT_TURNS_PER_MINUTE": "0", "VOICECHAT_REPLY_TOKENS_PER_MINUTE": "0"})
    return ServerProcess(env=env).start()


def ready(client: VoiceClient) -> None:
    client.start()
    client.wait_for(lambda: any(e["type"] == "ready" for e in client.events))


def ask(client: VoiceClient, text: str) -> int:
    before = client.latest_turn()
    client.send_json({"type": "text", "text": text})
    client.wait_for(lambda: (client.latest_turn() > before and client.turns[client.latest_turn()].done_at
                             is not None) or bool(errors_after(client, before)), SILENT_AFTER_S)
    return before


def errors_after(client: VoiceClient, before: int) -> list[dict[str, Any]]:
    return [e for e in client.events if e["type"] == "error" and (e.get("turn") or 0) > before]


def added_latency(api: SpeechStandIn, client: VoiceClient, turns: int) -> dict[str, Any]:
    api.pace = 1000.0  # the whole answer at once
    added = []
    for n in range(turns):
        sent = len(api.record.first_audio_at)
        before = ask(client, f"Question number {n + 1}, please answer.")
        turn = client.turns.get(client.latest_turn())
        if turn is None or client.latest_turn() <= before or turn.first_audio_at is None:
            continue
        added.append((turn.first_audio_at - api.record.first_audio_at[sent]) * 1000)
        client.send_json({"type": "playback_done", "turn": client.latest_turn()})
    return {"n": len(added), "failed": turns - len(added), "p50": percentile(added, 50),
            "p95": percentile(added, 95), "max": max(added, default=None)}


def barge_ins(api: SpeechStandIn, client: VoiceClient, count: int) -> dict[str, Any]:
    api.pace, api.reply_s = 1.0, 6.0
    api.plan(*[Fault.LATE_DELTAS] * (count * 3))
    late_before = api.record.late_sent
    results = Bench(client, timeout_s=20, verbose=False).barge_ins(playlist(), count)
    api.take_all_faults()
    times = [r["barge_in_ms"] for r in results if r["ok"]]
    return {"n": len(times), "failed": count - len(times), "p50": percentile(times, 50),
            "p95": percentile(times, 95), "late_pieces_sent": api.record.late_sent - late_before,
            "audio_after_clear": client.audio_after_clear}


def fault_once(api: SpeechStandIn, client: VoiceClient, fault: Fault) -> dict[str, Any]:
    api.plan(fault)
    asked_at = time.monotonic()
    before = client.latest_turn()
    client.send_json({"type": "text", "text": f"A question that meets {fault.value}."})
    if fault is Fault.LATE_DELTAS:
        return stopped_once(client, before, asked_at)
    settled = client.wait_for(lambda: answered(client, before) is not None
                              or bool(errors_after(client, before)), SILENT_AFTER_S)
    answer_at = answered(client, before)
    if answer_at is None and settled:  # told of an error: the person asks again at once
        answer_at = ask_again(client)
    client.send_json({"type": "playback_done", "turn": client.latest_turn()})
    return {"fault": fault.value, "silent": not settled,
            "recovery_s": None if answer_at is None else answer_at - asked_at}


def stopped_once(client: VoiceClient, before: int, asked_at: float) -> dict[str, Any]:
    """The person stops the answer once it is heard (its audio goes on coming from the
    stand-in for a while), then asks something else: answered, nothing of the old one."""
    heard = client.wait_for(lambda: client.latest_turn() > before
                            and client.turns[client.latest_turn()].first_audio_at is not None, SILENT_AFTER_S)
    answer_at = client.turns[client.latest_turn()].first_audio_at if heard else None
    client.send_json({"type": "interrupt"})
    client.wait_for(lambda: client.turns[client.latest_turn()].cleared_at is not None, SILENT_AFTER_S)
    again_at = ask_again(client)
    client.send_json({"type": "playback_done", "turn": client.latest_turn()})
    return {"fault": Fault.LATE_DELTAS.value, "silent": not heard or again_at is None,
            "recovery_s": None if answer_at is None or again_at is None else answer_at - asked_at}


def ask_again(client: VoiceClient) -> float | None:
    """Ask at once; the first audio of its answer."""
    before = client.latest_turn()
    client.send_json({"type": "text", "text": "Let me ask something again."})
    client.wait_for(lambda: answered(client, before) is not None, SILENT_AFTER_S)
    return answered(client, before)


def answered(client: VoiceClient, before: int) -> float | None:
    """The first audio of a whole answer (told done, not cleared) to a turn after ``before``."""
    times = [r.first_audio_at for t, r in client.turns.items() if t > before and r.done_at is not None
             and r.first_audio_at is not None and r.cleared_at is None]
    return min(times) if times else None


def faults(api: SpeechStandIn, client: VoiceClient, repeats: int) -> dict[str, Any]:
    api.pace, api.reply_s = 4.0, 2.0
    runs = [fault_once(api, client, fault) for fault in Fault for _ in range(repeats)]
    recovered = [r for r in runs if r["recovery_s"] is not None and r["recovery_s"] <= RECOVERED_WITHIN_S]
    slowest = max((r["recovery_s"] for r in runs if r["recovery_s"] is not None), default=None)
    by_fault = {fault.value: max((r["recovery_s"] or float("inf") for r in runs if r["fault"] == fault.value),
                                 default=None) for fault in Fault}
    return {"runs": len(runs), "silent": sum(r["silent"] for r in runs), "slowest_s_by_fault": by_fault,
            "recovered_share": len(recovered) / len(runs), "slowest_recovery_s": slowest,
            "not_recovered": [r for r in runs if r not in recovered],
            "audio_after_clear": client.audio_after_clear}


def bench(dialect: str, turns: int, count: int, repeats: int) -> dict[str, Any]:
    with SpeechStandIn(dialect) as api:
        server = serve(api)
        try:
            figures: dict[str, Any] = {}
            for part, run in (("added_latency_ms", lambda c: added_latency(api, c, turns)),
                              ("barge_in_ms", lambda c: barge_ins(api, c, count)),
                              ("faults", lambda c: faults(api, c, repeats))):
                client = VoiceClient(server.ws_url)
                try:
                    ready(client)
                    figures[part] = run(client)
                finally:
                    client.close()
            return figures
        finally:
            server.stop()


def misses(results: dict[str, dict[str, Any]]) -> list[str]:
    missed = []
    for api, figures in results.items():
        added, barge, fault = figures["added_latency_ms"], figures["barge_in_ms"], figures["faults"]
        if added["failed"] or added["p95"] is None or added["p95"] > ADDED_P95_MS:
            missed.append(f"{api}: added latency p95 at most {ADDED_P95_MS:g} ms, every turn answered")
        if barge["failed"] or barge["p95"] is None or barge["p95"] > BARGE_IN_P95_MS:
            missed.append(f"{api}: barge-in p95 at most {BARGE_IN_P95_MS:g} ms, every one cleared")
        if barge["audio_after_clear"] or fault["audio_after_clear"]:
            missed.append(f"{api}: no audio of a cancelled answer after its clear")
        if fault["silent"] or fault["recovered_share"] < 1.0:
            missed.append(f"{api}: no silent session, every fault recovered within {RECOVERED_WITHIN_S:g} s")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apis", default=",".join(APIS))
    parser.add_argument("--turns", type=int, default=50, help="typed questions for the added latency")
    parser.add_argument("--barge-ins", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5, help="of each misbehaviour")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    results = {api: bench(api, args.turns, args.barge_ins, args.repeats) for api in args.apis.split(",")}
    line = json.dumps(results)
    print(line)
    if args.out:
        with open(args.out, "w") as out:
            out.write(line + "\n")
    sys.exit(report(misses(results)))


if __name__ == "__main__":
    main()
