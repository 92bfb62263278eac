"""Two versions of the page, load → interactive, loads interleaved:

    python -m monitoring.bench.page_ab URL_A URL_B [--loads N] [--listening-s S --windows W]

Each URL is a running server (two checkouts started on two ports). Every round loads
both, in alternating order, each in its own browser profile (its own cache), after 3
warm-up rounds, so the machine's drift (a shared 2-core machine varies by ±100 ms from
minute to minute) falls on both alike: whole ``monitoring.bench.page`` runs one after
the other cannot tell 50 ms apart here. Prints one JSON line: per URL the median,
quartiles and every load (ms from navigation start to the Start button ready, as
``monitoring.bench.page`` counts it). With ``--listening-s``, both pages then listen
(room noise as their microphone) at the same time and each one's browser CPU is read
over the same windows: the drift falls on both alike there too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from monitoring.bench.page import READY, STATS, chromium_processes, cpu_seconds
from monitoring.clients.browser import launch, write_mic_wav

WARM_UP = 3


def interleaved(urls: list[str], loads: int, listening_s: float = 0.0,
                windows: int = 3) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Load times per URL, and (with ``listening_s``) % of a core per listening window."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {url: [] for url in urls}
    cpu: dict[str, list[float]] = {url: [] for url in urls}
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
        pages, profiles = {}, {}
        for n, url in enumerate(urls):
            profiles[url] = Path(folder) / f"profile-{n}"
            context = launch(playwright, profiles[url],
                             write_mic_wav(Path(folder) / f"mic-{n}.wav", b"", lead_s=1.0, tail_s=600.0))
            pages[url] = context.pages[0] if context.pages else context.new_page()
        for round_ in range(loads + WARM_UP):
            for url in urls if round_ % 2 == 0 else urls[::-1]:
                page = pages[url]
                page.goto(url + "/?mic=raw")
                page.wait_for_function(READY)
                if round_ >= WARM_UP:
                    times[url].append(round(page.evaluate("performance.now()"), 1))
        if listening_s > 0:
            for page in pages.values():
                page.get_by_role("button", name="Start the conversation").click()
                page.wait_for_function(f"{STATS}.state === 'listening'", timeout=30_000)
            processes = {url: chromium_processes(profile) for url, profile in profiles.items()}
            for _ in range(windows):
                before = {url: cpu_seconds(found) for url, found in processes.items()}
                started = time.monotonic()
                time.sleep(listening_s)  # measuring a rate over a window, not waiting for an event
                elapsed = time.monotonic() - started
                for url, found in processes.items():
                    cpu[url].append(round(100 * (cpu_seconds(found) - before[url]) / elapsed, 1))
    return times, cpu


def summary(times: list[float]) -> dict[str, Any]:
    quartiles = statistics.quantiles(times, n=4)
    return {"median": statistics.median(times), "p25": quartiles[0], "p75": quartiles[2], "all": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", nargs=2, help="the two servers, e.g. http://127.0.0.1:8061")
    parser.add_argument("--loads", type=int, default=25, help="loads of each, after the warm-up")
    parser.add_argument("--listening-s", type=float, default=0.0, help="then each CPU window, listening")
    parser.add_argument("--windows", type=int, default=3)
    args = parser.parse_args()
    if args.loads < 2:
        parser.error("--loads must be at least 2 (the quartiles need two loads)")
    times, cpu = interleaved(args.urls, args.loads, args.listening_s, args.windows)
    print(json.dumps({"bench": "page_ab", **{url: {**summary(t), "listening_cpu_percent": cpu[url]}
                                             for url, t in times.items()}}))


if __name__ == "__main__":
    main()
