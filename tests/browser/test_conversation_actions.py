"""The conversation is the person's, and the page is usable without a mouse: New, Copy
and Download; what Start does after Stop; single-key shortcuts that can be turned off;
focus on the way out of an error; the screen kept on while talking."""

from __future__ import annotations

from tests.browser.page import STATS, open_page, wait_state
from tests.support.simulated_server import simulated_server

QUESTION = "What is the tallest mountain?"


def ask(page, words: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_placeholder("Type a message").fill(words)
    page.keyboard.press("Enter")
    page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'assistant' && m.text)", timeout=10_000)


def test_new_copy_and_download(browser_with_mic) -> None:
    with simulated_server() as server:
        context = browser_with_mic()
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.http_url)
        page = open_page(context, server.http_url)
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        ask(page, QUESTION)
        first_session = page.evaluate(f"{STATS}.session.id")

        page.get_by_role("button", name="Copy the conversation").click()
        page.wait_for_function(f"{STATS}.problem && {STATS}.problem.message.includes('copied')")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert f"You: {QUESTION}" in copied and "Assistant: " in copied, copied

        with page.expect_download() as download:
            page.get_by_role("button", name="Download the conversation as text").click()
        saved = download.value
        name = saved.suggested_filename
        assert name.startswith("conversation-") and name.endswith(".txt"), name
        assert f"You: {QUESTION}" in saved.path().read_text(encoding="utf-8")

        page.get_by_role("button", name="Stop the conversation").click()
        wait_state(page, "idle")
        assert "Start within a minute goes on" in page.locator("#controls-next").inner_text()
        page.get_by_role("button", name="Start a new conversation").click()
        page.wait_for_function(f"{STATS}.messages.length === 0")
        assert page.locator("#controls-next").inner_text() == ""
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        session = page.evaluate(f"{STATS}.session")
        assert session["id"] != first_session and not session["resumed"]  # afresh on the server too


def test_single_key_shortcuts_can_be_turned_off_and_stay_off(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(), server.http_url)
        page.get_by_role("button", name="Turn keys off").click()
        page.get_by_text("Single-key shortcuts are off").wait_for()
        page.locator("body").press("s")
        assert page.evaluate(f"{STATS}.states") == []  # nothing started

        page.reload()
        page.wait_for_function("window.VoiceChat && window.VoiceChat.app")
        page.get_by_role("button", name="Turn keys on").click()
        page.locator("body").press("s")
        wait_state(page, "listening")
        page.locator("body").press("Escape")
        wait_state(page, "idle")


def test_focus_goes_to_the_way_out_of_an_error(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(allow_microphone=False), server.http_url)
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "error")
        page.wait_for_function("document.activeElement && document.activeElement.id === 'status-action'")
        page.keyboard.press("Enter")  # the focused "Try again": a second start (refused again)
        page.wait_for_function(f"{STATS}.states.filter(s => s === 'connecting').length === 2")


def test_the_screen_is_kept_on_while_talking(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(), server.http_url)
        assert page.evaluate("'wakeLock' in navigator")
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        page.wait_for_function("window.VoiceChat.wakeLock.held")
        page.get_by_role("button", name="Stop the conversation").click()
        wait_state(page, "idle")
        page.wait_for_function("!window.VoiceChat.wakeLock.held && !window.VoiceChat.wakeLock.wanted")


def test_stop_talking_ends_the_reply_and_the_conversation_goes_on(browser_with_mic) -> None:
    with simulated_server(simulated_tts_first_audio_ms=50) as server:
        page = open_page(browser_with_mic(), server.http_url)
        stop_reply = page.get_by_role("button", name="Stop the reply")
        assert stop_reply.is_disabled()  # nothing is being said
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        page.get_by_placeholder("Type a message").fill("Tell me a long story about the sea, please.")
        page.keyboard.press("Enter")
        wait_state(page, "speaking", timeout=10_000)
        stop_reply.click()
        wait_state(page, "listening", timeout=5_000)
        page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'assistant' && m.cut)")
        stats = page.evaluate(STATS)
        assert stats["running"] and stats["player"]["clears"] >= 1
        assert stop_reply.is_disabled()
        ask(page, "And what about rivers?")  # the conversation goes on: a second answer
        page.wait_for_function(f"{STATS}.messages.filter(m => m.role === 'assistant' && m.text).length === 2",
                               timeout=10_000)


def test_push_to_talk_sends_the_microphone_only_while_talk_is_held(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(), server.http_url)
        page.get_by_role("button", name="Push to talk").click()
        talk = page.get_by_role("button", name="Hold to talk")
        talk.wait_for()  # shown once push to talk is on
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        page.wait_for_function(f"{STATS}.framesSent > 25")
        stats = page.evaluate(STATS)
        assert stats["pushToTalk"]["on"] and stats["pushToTalk"]["silenced"] >= stats["framesSent"] - 1

        talk.hover()
        page.mouse.down()  # held: the microphone's own frames go
        page.wait_for_function(f"{STATS}.pushToTalk.held")
        held_from = page.evaluate(f"[{STATS}.framesSent, {STATS}.pushToTalk.silenced]")
        page.wait_for_function(f"{STATS}.framesSent > {held_from[0] + 25}")
        assert page.evaluate(f"{STATS}.pushToTalk.silenced") <= held_from[1] + 1
        page.mouse.up()  # let go: silence again
        page.wait_for_function(f"!{STATS}.pushToTalk.held && "
                               f"{STATS}.pushToTalk.silenced > {held_from[1] + 10}")

        page.reload()  # the choice is kept in this browser
        page.wait_for_function(f"window.VoiceChat && window.VoiceChat.app && {STATS}.pushToTalk.on")
