"""Page benchmark: how fast the page is ready and starts, and what it costs the browser.

    python -m monitoring.bench.page [--url http://...] [--repeats N] [--seconds S]

Without ``--url`` it starts the app (embedded models) on a free port. Headless Chromium
(Debian's) gets room noise as its microphone. Prints one JSON line:

- load_to_interactive_ms: navigation start to the Start button rendered with its
  callbacks and the app script ready (median of ``--repeats`` loads);
- start_to_first_frame_ms: Start pressed to the first 20 ms frame sent on the socket
  (on loopback the server has it well within a millisecond);
- browser CPU, in % of one core, summed over all Chromium processes, over ``--seconds``:
  idle, listening with and without the visualizer, and playing a long reply.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from monitoring.clients.browser import launch, write_mic_wav
from monitoring.servers.server_process import ROOT, ServerProcess

STATS = "window.VoiceChat.app.stats()"
READY = ("document.getElementById('controls-start') && window.dash_clientside"
         " && window.dash_clientside.voice && window.VoiceChat && window.VoiceChat.app")
# One question a pass (the same words again in the resumed conversation within
# VOICECHAT_DEDUP_WINDOW_MS would be taken for a repeat and not answered).
LONG_QUESTIONS = {"": "Tell me a long story about a dragon who learns to cook.",
                  "&viz=off": "Tell me a long story about a fox who learns to sing."}
PLAYING_WINDOW_S = 2.0


def chromium_processes(profile: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info.get("cmdline") or [])
        if "chromium" in cmdline and str(profile) in cmdline:
            found.append(process)
    browser = found[0] if found else None
    children = browser.children(recursive=True) if browser else []
    return found + [c for c in children if c not in found]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User and system CPU the processes have used so far (those gone count nothing)."""
    used = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            used += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return used


def cpu_percent(profile: Path, seconds: float) -> float:
    """CPU used by every Chromium process of this profile over ``seconds``, % of one core."""
    processes = chromium_processes(profile)
    before, started = cpu_seconds(processes), time.monotonic()
    time.sleep(seconds)  # measuring a rate over a window, not waiting for an event
    return round(100 * (cpu_seconds(processes) - before) / (time.monotonic() - started), 1)


def load_times(page: Any, url: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        page.goto(url)
        page.wait_for_function(READY, polling=5)
        times.append(round(page.evaluate("performance.now()"), 1))
    return times


def start_times(page: Any, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        before = page.evaluate(f"{STATS}.marks.startPressed") or 0
        page.get_by_role("button", name="Start the conversation").click()
        page.wait_for_function(
            f"{STATS}.marks.startPressed > {before} && {STATS}.marks.firstFrameSent !== null",
            timeout=30_000)
        marks = page.evaluate(f"{STATS}.marks")
        times.append(round(marks["firstFrameSent"] - marks["startPressed"], 1))
        page.get_by_role("button", name="Stop the conversation").click()
        page.wait_for_function(f"{STATS}.state === 'idle'")
    return times


def measure(url: str, repeats: int, seconds: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        mic = write_mic_wav(Path(folder) / "room.wav", b"", lead_s=1.0, tail_s=600.0)
        profile = Path(folder) / "profile"
        context = launch(playwright, profile, mic)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            loads = load_times(page, url + "/?mic=raw", repeats)
            cpu: dict[str, float] = {"idle": cpu_percent(profile, seconds)}
            starts = start_times(page, repeats)
            cpu["idle_after_stop"] = cpu_percent(profile, seconds)
            for name, query in (("listening", ""), ("listening_without_visualizer", "&viz=off")):
                page.goto(url + "/?mic=raw" + query)
                page.wait_for_function(READY)
                page.get_by_role("button", name="Start the conversation").click()
                page.wait_for_function(f"{STATS}.state === 'listening'", timeout=30_000)
                cpu[name] = cpu_percent(profile, seconds)
                page.get_by_role("button", name="Mute the microphone").click()  # no turns meanwhile
                page.evaluate("window.VoiceChat.app.updateSettings("
                              "{vad_aggressiveness: 2, patience: 'normal', max_sentences: 5})")
                page.get_by_label("Message to the assistant").fill(LONG_QUESTIONS[query])
                page.get_by_label("Message to the assistant").press("Enter")
                page.wait_for_function(f"{STATS}.player.scheduledSeconds > 1", timeout=60_000)
                key = "playing" if not query else "playing_without_visualizer"
                cpu[key] = cpu_percent(profile, PLAYING_WINDOW_S)  # a reply lasts a few seconds
                page.get_by_role("button", name="Stop the conversation").click()
        finally:
            context.close()
    return {
        "bench": "page",
        "load_to_interactive_ms": {"median": statistics.median(loads), "all": loads},
        "start_to_first_frame_ms": {"median": statistics.median(starts), "all": starts},
        "browser_cpu_percent_of_one_core": cpu,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--url", help="http URL of a running server (default: start one)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each CPU window")
    args = parser.parse_args(argv)
    server = None
    if not args.url:
        (ROOT / "tmp").mkdir(exist_ok=True)
        server = ServerProcess(env={"VOICECHAT_GREETING_AFTER_MS": "0"},
                               log_path=ROOT / "tmp" / "page-bench-server.log").start()
    try:
        result = measure(args.url or server.http_url, args.repeats, args.seconds)  # type: ignore[union-attr]
    finally:
        if server is not None:
            server.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
