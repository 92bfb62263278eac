"""Each reply can show where its time went, step by step on one time line, and be heard
again."""

from __future__ import annotations

from tests.browser.page import STATS, open_page, screenshots, wait_state
from tests.support.simulated_server import simulated_server


def test_a_reply_shows_its_waterfall_and_plays_again(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(), server.http_url)
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        page.get_by_placeholder("Type a message").fill("Tell me something about rivers.")
        page.keyboard.press("Enter")
        page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'assistant' && m.heardMs !== null)",
                               timeout=10_000)
        wait_state(page, "listening", timeout=15_000)  # the reply has played

        details = page.locator("details.waterfall").first
        details.locator("summary").click()
        rows = details.locator(".waterfall-row")
        labels = [rows.nth(i).locator(".waterfall-label").inner_text() for i in range(rows.count())]
        # A typed message: no end of speech to judge, no words to recognize.
        assert labels == ["First word of the reply written", "First sentence written", "First audio sent",
                          "Heard here"], labels
        times = [int(rows.nth(i).locator(".waterfall-ms").inner_text().removesuffix(" ms"))
                 for i in range(rows.count())]
        assert times == sorted(times) and times[-1] > 0, times  # one time line, in order
        reply = next(m for m in page.evaluate(f"{STATS}.messages") if m["role"] == "assistant")
        # (the page rounds halves up, Python to even: a millisecond either way)
        assert abs(times[2] - reply["latencyMs"]) <= 1 and abs(times[3] - reply["heardMs"]) <= 1
        screenshots(page, "waterfall")

        details.get_by_role("button", name="Play the reply again").click()
        page.wait_for_function(f"{STATS}.replays === 1")
        assert page.evaluate("window.VoiceChat.app.keptAudio.playing !== null")
