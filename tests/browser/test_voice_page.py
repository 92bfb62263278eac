"""A real browser with a WAV file as its microphone, against the running app."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, ROOT

SCREENSHOTS = ROOT / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def test_spoken_question_shows_transcripts_and_plays_the_reply(live_server, browser_with_mic) -> None:
    context = browser_with_mic(FIXTURES / "question_1.wav")
    page = context.pages[0] if context.pages else context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.http_url + "/?mic=raw")
    page.get_by_role("button", name="Start the conversation").click()

    user = page.locator(".message-user .message-text")
    user.first.wait_for(timeout=30_000)
    assistant = page.locator(".message-assistant .message-text")
    assistant.first.wait_for(timeout=30_000)
    page.wait_for_function(
        "window.VoiceChat.app.stats().player.scheduledSeconds >= 1.0", timeout=30_000
    )

    assert "capital" in user.first.inner_text().lower()
    assert assistant.first.inner_text().strip()
    stats = page.evaluate("window.VoiceChat.app.stats()")
    assert stats["framesSent"] > 50
    assert stats["states"][:3] == ["connecting", "listening", "user_speaking"]
    # The reply plays to its end and the page listens again: the states went in turn order.
    page.wait_for_function(
        "(s => s.state === 'listening' && s.states.includes('speaking'))(window.VoiceChat.app.stats())",
        timeout=30_000)
    states = page.evaluate("window.VoiceChat.app.stats().states")
    thinking = states.index("thinking", 3)
    speaking = states.index("speaking", thinking)
    assert "listening" in states[speaking:] and "error" not in states, states
    assert not console_errors, console_errors
    # A spoken turn's waterfall starts with the end of the words judged and recognized.
    page.locator("details.waterfall summary").first.click()
    labels = page.locator("details.waterfall").first.locator(".waterfall-label").all_inner_texts()
    assert labels[:2] == ["Turn taken (end of your words judged)", "Words recognized"], labels
    assert labels[-2:] == ["First audio sent", "Heard here"], labels
    page.locator("details.waterfall summary").first.click()  # closed again for the screenshots
    advice = page.evaluate("window.VoiceChat.app.stats().problem")  # the small built-in model's answer
    assert advice["kind"] == "info" and "Ollama" in advice["message"], advice
    page.screenshot(path=str(SCREENSHOTS / "conversation-wide.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "conversation-narrow.png"), full_page=True)

    page.get_by_role("button", name="Stop the conversation").click()
    page.wait_for_function("window.VoiceChat.app.stats().state === 'idle'", timeout=10_000)
    assert page.locator("#controls-state").inner_text() == "Idle"
