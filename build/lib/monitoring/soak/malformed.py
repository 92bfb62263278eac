"""Bad input at volume: clients sending thousands of malformed messages while others hold
ordinary conversations on the same server. Harmed: a healthy session that saw an error,
missed an answer, or lost its connection."""

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
from monitoring.clients.voice_client import VoiceClient
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


def healthy(url: str, turns: int) -> dict[str, Any]:
    client = VoiceClient(url, timeout_s=10)
    answered = 0
    try:
        client.wait_for(lambda: client.event_seen("ready"), 10)
        client.send_json({"type": "start"})
        for turn in range(1, turns + 1):
            # (words, not numbers: the same words again soon would not be answered twice)
            topic = f"{WORDS[turn % len(WORDS)]} and {WORDS[(turn // len(WORDS)) % len(WORDS)]}"
            client.send_json({"type": "text", "text": f"Tell me about {topic}."})
            if client.wait_for(lambda t=turn: client.event_seen("reply_done", turn=t), 10):
                answered += 1
            client.send_json({"type": "playback_done", "turn": turn})
        errors = [e["code"] for e in client.events if e["type"] == "error"]
        harmed = bool(errors) or answered < turns or client.closed
    finally:
        client.close()
    return {"answered": answered, "turns": turns, "errors": errors, "harmed": harmed}


def run_malformed(messages_per_attacker: int = 1500, attackers: int = 3, healthy_sessions: int = 3,
                  turns: int = 30) -> dict[str, Any]:
    settings = Settings().replace(greeting_after_ms=0, thinking_cue_ms=0, db_path="",
                                  max_sessions_per_address=0, max_message_bytes=65536,
                                  # the healthy sessions type a turn a second, all from 127.0.0.1
                                  turns_per_minute=0, address_turns_per_minute=0)
    with InProcessServer(settings, simulated_providers(SimulatedTimings.instant())) as server, \
            ThreadPoolExecutor(attackers + healthy_sessions) as executor:
        bad = [executor.submit(attacker, server.ws_url, messages_per_attacker, seed)
               for seed in range(attackers)]
        good = [executor.submit(healthy, server.ws_url, turns) for _ in range(healthy_sessions)]
        bad_results = [f.result() for f in bad]
        good_results = [f.result() for f in good]
        internal_errors = server.monitor.snapshot()["counters"].get("error:internal", 0)
    return {
        "malformed_sent": sum(r["sent"] for r in bad_results),
        "errors_returned": sum(r["errors_received"] for r in bad_results),
        "attacker_reconnects": sum(r["reconnects"] for r in bad_results),
        "healthy_sessions": healthy_sessions,
        "healthy_turns": sum(r["turns"] for r in good_results),
        "healthy_answered": sum(r["answered"] for r in good_results),
        "sessions_harmed": sum(1 for r in good_results if r["harmed"]),
        "harm_details": [r["errors"] for r in good_results if r["harmed"]],
        "internal_errors": internal_errors,
    }
