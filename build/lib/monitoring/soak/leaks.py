"""Leak check: many connect / stream / disconnect cycles, a third cut mid-reply.

Runs against an in-process server with model-free providers, so the figures are about
the server's own bookkeeping: threads, open files and memory before and after.
"""

from __future__ import annotations

import gc
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import psutil

from core.providers.simulated import SimulatedTimings, simulated_providers
from core.settings import Settings
from monitoring.clients.voice_client import VoiceClient, quiet_frame
from monitoring.servers.inprocess_server import InProcessServer

WARM_UP_CYCLES = 200  # enough for every bounded pool to reach its full size first
RESUME_WINDOW_S = 2.0  # short, so parked sessions are closed before the figures are read


def leak_settings() -> Settings:
    return Settings().replace(greeting_after_ms=0, thinking_cue_ms=0, db_path="",
                              resume_window_s=RESUME_WINDOW_S, max_sessions_per_address=0,
                              address_turns_per_minute=0)  # (every client here is 127.0.0.1)


def one_cycle(url: str, index: int, frames: list[bytes]) -> str:
    """One conversation; returns "answered", "cut" or what went wrong."""
    client = VoiceClient(url, timeout_s=10)
    try:
        if not client.wait_for(lambda: client.event_seen("ready"), 10):
            return "no_ready"
        client.send_json({"type": "start"})
        for frame in frames:
            client.send_raw(frame)
        client.send_json({"type": "text", "text": f"question {index}"})
        if index % 3 == 0:  # cut mid-reply: the socket goes while the answer is playing
            ok = client.wait_for(lambda: client.turns.get(1) is not None
                                 and client.turns[1].first_audio_at is not None, 10)
            return "cut" if ok else "no_audio"
        ok = client.wait_for(lambda: client.event_seen("reply_done", turn=1), 10)
        return "answered" if ok else "no_reply"
    finally:
        client.close()


def thread_kinds() -> Counter[str]:
    """Live threads by name without their numbers (``llm_3`` -> ``llm_``)."""
    return Counter(re.sub(r"\d+", "", t.name) for t in threading.enumerate())


def process_figures() -> dict[str, Any]:
    gc.collect()
    process = psutil.Process()
    return {"threads": process.num_threads(), "open_files": process.num_fds(),
            "rss_mb": process.memory_info().rss / 2**20, "thread_kinds": thread_kinds()}


def wait_until(predicate: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    done = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        done.wait(0.1)  # polling the server's bookkeeping, which reports nothing itself
    return True


def run_leak_check(cycles: int = 1000, concurrency: int = 4) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    frames = [quiet_frame(rng) for _ in range(25)]  # half a second of an open microphone
    with InProcessServer(leak_settings(), simulated_providers(SimulatedTimings.instant())) as server:
        pool = server.runtime.pool

        def settled() -> bool:
            stats = pool.stats()
            return stats.active == 0 and stats.parked == 0

        def run(n: int, offset: int) -> Counter[str]:
            with ThreadPoolExecutor(concurrency) as executor:
                return Counter(executor.map(lambda i: one_cycle(server.ws_url, i, frames),
                                            range(offset, offset + n)))

        run(WARM_UP_CYCLES, 0)
        wait_until(settled, 30)
        before = process_figures()
        started = time.monotonic()
        half = cycles // 2
        outcomes = run(half, WARM_UP_CYCLES)
        released = wait_until(settled, 30)
        middle = process_figures()  # growth between the halves would be a leak per cycle
        outcomes += run(cycles - half, WARM_UP_CYCLES + half)
        elapsed = time.monotonic() - started
        released = wait_until(settled, 30) and released
        after = process_figures()
        counters = server.monitor.snapshot()["counters"]
    return {
        "cycles": cycles,
        "cut_mid_reply": outcomes.get("cut", 0),
        "answered": outcomes.get("answered", 0),
        "failed": sum(n for k, n in outcomes.items() if k not in ("cut", "answered")),
        "outcomes": dict(outcomes),
        "seconds": round(elapsed, 1),
        "sessions_released": released,
        "before": before,
        "middle": {k: v for k, v in middle.items() if k != "thread_kinds"},
        "after": after,
        "threads_delta": after["threads"] - before["threads"],
        "open_files_delta": after["open_files"] - before["open_files"],
        "rss_delta_mb": round(after["rss_mb"] - before["rss_mb"], 1),
        "second_half": {"threads_delta": after["threads"] - middle["threads"],
                        "open_files_delta": after["open_files"] - middle["open_files"],
                        "rss_delta_mb": round(after["rss_mb"] - middle["rss_mb"], 1)},
        "thread_kinds_delta": dict(after.pop("thread_kinds") - before.pop("thread_kinds")),
        "sessions_opened": counters.get("sessions_opened", 0),
    }
