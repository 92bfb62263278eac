"""Two versions of the page, load → interactive, loads interleaved:

    python -m monitoring.bench.page_ab URL_A URL_B [--loads N]

Each URL is a running server (two checkouts started on two ports). Every round loads
both, in alternating order, each in its own browser profile (its own cache), after 3
warm-up rounds, so the machine's drift (a shared 2-core machine varies by ±100 ms from
minute to minute) falls on both alike: whole ``monitoring.bench.page`` runs one after
the other cannot tell 50 ms apart here. Prints one JSON line: per URL the median,
quartiles and every load (ms from navigation start to the Start button ready, as
``monitoring.bench.page`` counts it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from monitoring.bench.page import READY
from monitoring.clients.browser import launch, write_mic_wav

WARM_UP = 3


def interleaved(urls: list[str], loads: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {url: [] for url in urls}
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
        pages = {}
        for n, url in enumerate(urls):
            context = launch(playwright, Path(folder) / f"profile-{n}",
                             write_mic_wav(Path(folder) / f"mic-{n}.wav", b""))
            pages[url] = context.pages[0] if context.pages else context.new_page()
        for round_ in range(loads + WARM_UP):
            for url in urls if round_ % 2 == 0 else urls[::-1]:
                page = pages[url]
                page.goto(url + "/?mic=raw")
                page.wait_for_function(READY)
                if round_ >= WARM_UP:
                    times[url].append(round(page.evaluate("performance.now()"), 1))
    return times


def summary(times: list[float]) -> dict[str, Any]:
    quartiles = statistics.quantiles(times, n=4)
    return {"median": statistics.median(times), "p25": quartiles[0], "p75": quartiles[2], "all": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", nargs=2, help="the two servers, e.g. http://127.0.0.1:8061")
    parser.add_argument("--loads", type=int, default=25, help="loads of each, after the warm-up")
    args = parser.parse_args()
    times = interleaved(args.urls, args.loads)
    print(json.dumps({"bench": "page_ab", **{url: summary(t) for url, t in times.items()}}))


if __name__ == "__main__":
    main()
