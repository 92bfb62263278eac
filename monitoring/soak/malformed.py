"""Bad input at volume: clients sending thousands of malformed messages while others hold
spoken conversations on the same server, from before the first bad message to after the
last. Harmed: a healthy session that saw an error, missed an answer, lost its
connection, or waited for an answer more than twice the normal p95 (measured on the
same server just before the attack)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from core.providers.simulated import SimulatedTimings, simulated_providers
from core.settings import Settings
from monitoring.clients.voice_client import VoiceClient, frames_of, read_wav_16k_mono
from monitoring.loadtest.config import default_audio
from monitoring.metrics.series import percentile
from monitoring.servers.inprocess_server import InProcessServer

WORDS = ("apples", "rivers", "clocks", "trains", "violins", "mountains", "lanterns", "gardens",
         "comets", "harbors")
PACE_PER_SECOND = 150  # under the server's rate limit, so the messages are handled, not dropped


def malformed_messages(rng: np.random.Generator) -> Iterator[str | bytes]:
    """An endless mix of what a broken or hostile client might send."""
    kinds: list[Any] = [
        lambda: "{not json",
        lambda: "[1, 2, 3]",
        lambda: "null",
        lambda: "[" * 3000,
        lambda: json.dumps({"type": "nonsense"}),
        lambda: json.dumps({"type": ["start"]}),
        lambda: json.dumps({"type": "text"}),
        lambda: json.dumps({"type": "text", "text": "x" * 3000}),
        lambda: json.dumps({"type": "playback_done", "turn": "seven"}),
        lambda: json.dumps({"type": "playback_done", "turn": int(rng.integers(1, 10**6))}),
        lambda: json.dumps({"type": "hello", "sample_rate": 44100}),
        lambda: json.dumps({"type": "hello", "protocol": 9}),
        lambda: json.dumps({"type": "stop"}),
        lambda: json.dumps({"type": "resume", "session_id": "f" * 32, "token": "forged"}),
        lambda: json.dumps({"type": "settings", "vad_aggressiveness": 9, "voice": {"a": 1}}),
        lambda: json.dumps({"type": "settings", "openai_base_url": "http://169.254.169.254/"}),
        lambda: bytes(rng.integers(0, 256, int(rng.integers(1, 200)) * 2 + 1, dtype=np.uint8)),  # odd
        lambda: b"",
        lambda: bytes(rng.integers(0, 256, 640, dtype=np.uint8)),  # audio before start
    ]
    while True:
        yield kinds[int(rng.integers(0, len(kinds)))]()


def attacker(url: str, count: int, seed: int, oversized_every: int = 400) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    messages = malformed_messages(rng)
    sent = reconnects = errors = 0
    client = VoiceClient(url, timeout_s=10)
    pace = threading.Event()
    started = time.monotonic()
    try:
        while sent < count:
            if client.closed:
                errors += sum(1 for e in client.events if e["type"] == "error")
                client.close()
                client = VoiceClient(url, timeout_s=10)
                reconnects += 1
            message = b"\x00" * 70_000 if sent and sent % oversized_every == 0 else next(messages)
            try:
                client.send_raw(message)
            except OSError:
                continue  # closed under us (the oversized message): reconnect above
            sent += 1
            delay = started + sent / PACE_PER_SECOND - time.monotonic()
            if delay > 0:
                pace.wait(delay)  # pacing the sender, not synchronizing with it
        client.wait_for(lambda: False, 1.0)  # let the last answers arrive
        errors += sum(1 for e in client.events if e["type"] == "error")
    finally:
        client.close()
    return {"sent": sent, "reconnects": reconnects, "errors_received": errors}


def speech_clips() -> list[list[bytes]]:
    """The spoken questions the healthy sessions ask, as 20 ms frames."""
    return [frames_of(read_wav_16k_mono(path)) for path in default_audio()]


def healthy(url: str, clips: list[list[bytes]], min_turns: int, attack_over: threading.Event,
            seed: int, listening: threading.Barrier | None = None) -> dict[str, Any]:
    """Spoken questions, paced like a microphone, until the attack is over (and at least
    ``min_turns``); each turn's voice-to-voice time is kept. ``listening``: met once the
    session listens, so the attack starts only when every healthy session is talking."""
    client = VoiceClient(url, timeout_s=10)
    rng = np.random.default_rng(seed)
    answered = turns = 0
    v2v_ms: list[float] = []
    try:
        client.start()
        started = time.monotonic()
        if listening is not None:
            listening.wait(30)
        while turns < min_turns or not attack_over.is_set():
            turns += 1
            clip = clips[(seed + turns) % len(clips)]
            client.stream(clip, until=lambda: client.event_seen("reply_done", turn=client.latest_turn()),
                          max_s=15, rng=rng)
            record = client.turns.get(client.latest_turn())
            if record is not None and record.done_at is not None:
                answered += 1
                if record.v2v_ms is not None:
                    v2v_ms.append(record.v2v_ms)
                client.send_json({"type": "playback_done", "turn": record.turn})
        errors = [e["code"] for e in client.events if e["type"] == "error"]
        closed_by_server = client.closed
        ended = time.monotonic()
    finally:
        client.close()
    return {"answered": answered, "turns": turns, "errors": errors, "closed": closed_by_server,
            "v2v_ms": v2v_ms, "started": started, "ended": ended}


def malformed_settings() -> Settings:
    return Settings().replace(greeting_after_ms=0, thinking_cue_ms=0, db_path="",
                              max_sessions_per_address=0, max_message_bytes=65536,
                              # every client here is 127.0.0.1
                              turns_per_minute=0, address_turns_per_minute=0,
                              address_reply_tokens_per_minute=0)


def harmed(result: dict[str, Any], slow_ms: float) -> bool:
    """An error, a missed answer, a lost connection, or an answer slower than ``slow_ms``."""
    return bool(result["errors"]) or result["answered"] < result["turns"] or result["closed"] or any(
        v > slow_ms for v in result["v2v_ms"])


def run_malformed(messages_per_attacker: int = 1500, attackers: int = 3, healthy_sessions: int = 3,
                  min_turns: int = 3) -> dict[str, Any]:
    clips = speech_clips()
    with InProcessServer(malformed_settings(), simulated_providers(SimulatedTimings.instant())) as server, \
            ThreadPoolExecutor(attackers + healthy_sessions) as executor:
        # The normal voice-to-voice time on this server, before any attack.
        calm = threading.Event()
        calm.set()
        baselines = [executor.submit(healthy, server.ws_url, clips, min_turns, calm, 100 + n)
                     for n in range(healthy_sessions)]
        normal_p95 = percentile([v for f in baselines for v in f.result()["v2v_ms"]], 95) or 0.0
        attack_over = threading.Event()
        listening = threading.Barrier(healthy_sessions + 1)
        good = [executor.submit(healthy, server.ws_url, clips, min_turns, attack_over, n, listening)
                for n in range(healthy_sessions)]
        listening.wait(30)
        attack_started = time.monotonic()
        bad = [executor.submit(attacker, server.ws_url, messages_per_attacker, seed)
               for seed in range(attackers)]
        bad_results = [f.result() for f in bad]
        attack_ended = time.monotonic()
        attack_over.set()
        good_results = [f.result() for f in good]
        internal_errors = server.monitor.snapshot()["counters"].get("error:internal", 0)
    slow_ms = 2 * normal_p95
    overlap = [max(0.0, min(r["ended"], attack_ended) - max(r["started"], attack_started))
               / max(attack_ended - attack_started, 1e-9) for r in good_results]
    return {
        "malformed_sent": sum(r["sent"] for r in bad_results),
        "errors_returned": sum(r["errors_received"] for r in bad_results),
        "attacker_reconnects": sum(r["reconnects"] for r in bad_results),
        "attack_seconds": round(attack_ended - attack_started, 1),
        "healthy_sessions": healthy_sessions,
        "healthy_spoken": True,
        "attack_overlap": round(min(overlap), 3),
        "normal_v2v_p95_ms": round(normal_p95, 1),
        "slow_threshold_ms": round(slow_ms, 1),
        "healthy_v2v_max_ms": round(max((v for r in good_results for v in r["v2v_ms"]), default=0.0), 1),
        "healthy_turns": sum(r["turns"] for r in good_results),
        "healthy_answered": sum(r["answered"] for r in good_results),
        "sessions_harmed": sum(1 for r in good_results if harmed(r, slow_ms)),
        "harm_details": [{"errors": r["errors"], "answered": r["answered"], "turns": r["turns"],
                          "slowest_ms": round(max(r["v2v_ms"], default=0.0), 1)}
                         for r in good_results if harmed(r, slow_ms)],
        "internal_errors": internal_errors,
    }
