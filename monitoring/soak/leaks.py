"""Leak check: many connect / speak / disconnect cycles, a third cut mid-reply.

Each cycle speaks a real recorded question at a microphone's pace, so every part a
conversation uses runs: the energy gate, webrtcvad and Silero, speculative
transcription and replies, the end of turn. The providers are model-free (instant), so
the figures are about the server's own bookkeeping: threads, open files and memory
before and after, and whether every session was released.
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
from monitoring.clients.voice_client import VoiceClient, frames_of, read_wav_16k_mono
from monitoring.loadtest.config import default_audio
from monitoring.servers.inprocess_server import InProcessServer

WARM_UP_CYCLES = 100  # enough for every bounded pool to reach its full size first
CLIP_FRAMES = 80  # the first 1.6 s of each question: enough voice for a turn
RESUME_WINDOW_S = 2.0  # short, so parked sessions are closed before the figures are read


def leak_settings() -> Settings:
    return Settings().replace(greeting_after_ms=0, thinking_cue_ms=0, db_path="",
                              resume_window_s=RESUME_WINDOW_S, max_sessions_per_address=0,
                              # (every client here is 127.0.0.1)
                              address_turns_per_minute=0, address_reply_tokens_per_minute=0)


def one_cycle(url: str, index: int, clips: list[list[bytes]]) -> str:
    """One spoken conversation; returns "answered" (with "+speculative" when its reply
    was prepared before the end of turn was confirmed), "cut", or what went wrong."""
    client = VoiceClient(url, timeout_s=10)
    rng = np.random.default_rng(index)
    try:
        if not client.wait_for(lambda: client.event_seen("ready"), 10):
            return "no_ready"
        client.start()
        cut = index % 3 == 0  # the socket goes while the answer is playing
        record = lambda: client.turns.get(client.latest_turn())  # noqa: E731 - read after each frame
        if cut:
            client.stream(clips[index % len(clips)], max_s=10, rng=rng,
                          until=lambda: (r := record()) is not None and r.first_audio_at is not None)
            return "cut" if (r := record()) is not None and r.first_audio_at is not None else "no_audio"
        client.stream(clips[index % len(clips)], max_s=10, rng=rng,
                      until=lambda: (r := record()) is not None and r.done_at is not None)
        done = record()
        if done is None or done.done_at is None:
            return "no_reply"
        return "answered+speculative" if done.timings.get("speculative") else "answered"
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


def run_leak_check(cycles: int = 600, concurrency: int = 8) -> dict[str, Any]:
    clips = [frames_of(read_wav_16k_mono(path))[:CLIP_FRAMES] for path in default_audio()]
    with InProcessServer(leak_settings(), simulated_providers(SimulatedTimings.instant())) as server:
        pool = server.runtime.pool

        def settled() -> bool:
            stats = pool.stats()
            return stats.active == 0 and stats.parked == 0

        def run(n: int, offset: int) -> Counter[str]:
            with ThreadPoolExecutor(concurrency) as executor:
                return Counter(executor.map(lambda i: one_cycle(server.ws_url, i, clips),
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
        "spoken": True,
        "cut_mid_reply": outcomes.get("cut", 0),
        "answered": outcomes.get("answered", 0) + outcomes.get("answered+speculative", 0),
        "speculative_replies": outcomes.get("answered+speculative", 0),
        "failed": sum(n for k, n in outcomes.items() if k not in ("cut", "answered", "answered+speculative")),
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
