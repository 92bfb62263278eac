"""Choosing providers in the settings drawer, in a real browser against the real server."""

from __future__ import annotations

import pytest

from tests.browser.page import STATS, open_page, screenshots, start_listening, wait_state
from tests.support.openai_stub import FakeOpenAIHandler

pytestmark = pytest.mark.browser


def choose(page, select_id: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f".ant-select:has(#{select_id}) .ant-select-selector").click()
    page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden) "
                 f".ant-select-item-option[title={option!r}]").click()
    page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)").wait_for(state="detached")


def applied(page, key: str, value: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(f"({STATS}.appliedSettings || {{}})[{key!r}] === {value!r}")


def use_the_stub_for_replies(page, stub_url: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Open the settings").click()
    assert not page.locator("#settings-openai").is_visible()  # only when a role uses a server
    choose(page, "settings-llm", "OpenAI-compatible server")
    applied(page, "llm_provider", "openai")
    choose(page, "settings-openai-url", stub_url)
    page.get_by_label("API key", exact=True).fill("sk-from-the-page")
    page.get_by_role("button", name="Use this OpenAI-compatible server").click()
    applied(page, "openai_base_url", stub_url)
    assert "openai-llm" in page.locator("#settings-providers").inner_text()


def test_replies_from_an_openai_compatible_server_are_spoken(live_server, shared_openai_stub,
                                                             browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    start_listening(page)  # the microphone hears room noise only
    use_the_stub_for_replies(page, shared_openai_stub)
    assert page.evaluate("window.localStorage.getItem('voicechat.settings')").find("sk-from") < 0
    screenshots(page, "settings-server")
    page.keyboard.press("Escape")

    box = page.get_by_label("Message to the assistant")
    box.fill("What is the capital of France?")
    box.press("Enter")
    page.wait_for_function(
        f"{STATS}.messages.some(m => m.role === 'assistant' && m.text.includes('Paris is the capital'))",
        timeout=30_000)
    page.wait_for_function(f"{STATS}.player.chunks > 0")
    assert FakeOpenAIHandler.keys[-1] == "sk-from-the-page"  # the page's key went to its server


def test_a_choice_the_server_refuses_is_explained_and_changes_nothing(live_server, browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    start_listening(page)
    page.get_by_role("button", name="Open the settings").click()
    choose(page, "settings-language", "German")
    page.wait_for_function(f"{STATS}.settingsStatus.startsWith('Not applied')")
    assert "English only" in page.locator("#settings-saved").inner_text()
    assert page.evaluate(f"({STATS}.appliedSettings || {{language: 'en'}}).language") == "en"


ANSWERS = f"{STATS}.messages.filter(m => m.role === 'assistant' && m.latencyMs !== null)"


def test_a_failing_server_is_replaced_by_the_embedded_model_and_taken_back(
        live_server, shared_openai_stub, browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    start_listening(page)
    use_the_stub_for_replies(page, shared_openai_stub)
    page.keyboard.press("Escape")
    box = page.get_by_label("Message to the assistant")
    FakeOpenAIHandler.status = 500
    try:
        for number, question in enumerate(["What is the capital of France?", "Name a colour.",
                                           "What is two plus two?"], start=1):
            box.fill(question)
            box.press("Enter")  # each is answered all the same, by the embedded model
            page.wait_for_function(f"{ANSWERS}.length >= {number}", timeout=90_000)
            wait_state(page, "listening")  # (typing over a reply would replace it)
        page.wait_for_function(f"({STATS}.problem || {{}}).message.includes('not answering')",
                               timeout=10_000)  # three failures in a row: the person is told
        problem = page.evaluate(f"{STATS}.problem")
        assert problem["kind"] == "warning" and "using gemma3-270m" in problem["message"], problem
        assert not page.evaluate(f"{ANSWERS}.some(m => m.text.includes('Paris is the capital'))")
        screenshots(page, "provider-fallback")
    finally:
        FakeOpenAIHandler.status = 200
    page.wait_for_function(f"({STATS}.problem || {{}}).message.includes('works again')", timeout=30_000)
    box.fill("And of Spain?")
    box.press("Enter")
    page.wait_for_function(f"{ANSWERS}.some(m => m.text.includes('Paris is the capital'))", timeout=30_000)


def test_a_failing_server_with_no_fallback_is_reported_and_ask_again_recovers(
        live_server, shared_openai_stub, browser_with_mic) -> None:
    # In German every role is on the server and the English embedded models cannot stand
    # in: a failure reaches the person, who can ask again.
    page = open_page(browser_with_mic(), live_server.http_url)
    start_listening(page)
    use_the_stub_for_replies(page, shared_openai_stub)
    for role in ("settings-stt", "settings-tts"):
        choose(page, role, "OpenAI-compatible server")
    applied(page, "tts_provider", "openai")
    choose(page, "settings-language", "German")
    applied(page, "language", "de")
    page.keyboard.press("Escape")
    FakeOpenAIHandler.status = 500
    try:
        box = page.get_by_label("Message to the assistant")
        box.fill("Was ist die Hauptstadt von Frankreich?")
        box.press("Enter")
        page.wait_for_function(f"({STATS}.problem || {{}}).actionLabel === 'Ask again'", timeout=30_000)
    finally:
        FakeOpenAIHandler.status = 200
    page.get_by_role("button", name="Ask again").click()
    page.wait_for_function(f"{ANSWERS}.some(m => m.text.includes('Paris is the capital'))", timeout=30_000)
    assert page.evaluate(f"{STATS}.problem") is None


def test_answers_from_a_speech_to_speech_api_chosen_in_the_drawer(live_server, shared_speech_api,
                                                                  browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    start_listening(page)
    page.get_by_role("button", name="Open the settings").click()
    assert not page.locator("#settings-speech-details").is_visible()  # only once an API is chosen
    choose(page, "settings-speech", "OpenAI Realtime API")
    choose(page, "settings-speech-url", shared_speech_api.url)
    page.get_by_label("Speech-to-speech API key").fill("sk-speech-from-the-page")
    page.get_by_role("button", name="Use this speech-to-speech API").click()
    applied(page, "speech_provider", "openai-realtime")
    assert "answers: openai-realtime" in page.locator("#settings-providers").inner_text()
    stored = page.evaluate("window.localStorage.getItem('voicechat.settings')")
    assert "openai-realtime" in stored and "sk-speech" not in stored  # the key: this tab only
    screenshots(page, "settings-speech")
    page.keyboard.press("Escape")

    box = page.get_by_label("Message to the assistant")
    box.fill("Tell me something short.")
    box.press("Enter")
    page.wait_for_function(
        f"{STATS}.messages.some(m => m.role === 'assistant' && m.text.includes('from the stand-in'))",
        timeout=30_000)
    page.wait_for_function(f"{STATS}.player.chunks > 0")
    assert shared_speech_api.record.received["conversation.item.create"] >= 1
