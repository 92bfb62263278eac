"""A page whose socket drops, or that is reloaded, takes its conversation back."""

from __future__ import annotations

from tests.browser.page import STATS, open_page

ANSWERED = f"{STATS}.messages.filter(m => m.role === 'assistant' && m.latencyMs !== null).length"


def ask(page, words: str) -> None:  # type: ignore[no-untyped-def]
    """Type a question and wait until its answer has been spoken."""
    before = page.evaluate(ANSWERED)
    box = page.get_by_label("Message to the assistant")
    box.fill(words)
    box.press("Enter")
    page.wait_for_function(f"{ANSWERED} > {before}", timeout=30_000)


def test_a_dropped_socket_and_a_reload_resume_the_same_conversation(live_server, browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    ask(page, "What is the capital of France?")
    first = page.evaluate(f"{STATS}.session")
    assert first["resumed"] is False

    page.evaluate("window.VoiceChat.app.connection.socket.close()")  # the network drops it
    page.wait_for_function(f"!{STATS}.connected")
    ask(page, "And of Spain?")
    again = page.evaluate(f"{STATS}.session")
    assert again == {"id": first["id"], "resumed": True}

    page.reload()
    page.wait_for_function("window.VoiceChat && window.VoiceChat.app")
    ask(page, "And of Italy?")
    assert page.evaluate(f"{STATS}.session") == {"id": first["id"], "resumed": True}
    said = [m["text"] for m in page.evaluate(f"{STATS}.messages") if m["role"] == "user"]
    assert said == ["What is the capital of France?", "And of Spain?", "And of Italy?"]
    problem = page.evaluate(f"{STATS}.problem")
    assert not problem or problem.get("kind") != "error", problem
