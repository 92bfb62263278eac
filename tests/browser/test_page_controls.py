"""The page's controls in a real browser: mute, stop, typing, shortcuts, lost connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitoring.servers.server_process import ServerProcess, free_port
from tests.browser.page import STATS, open_page, screenshots, start_listening, wait_state

pytestmark = pytest.mark.browser


def test_idle_page_has_labelled_controls(live_server, browser_with_mic) -> None:
    from playwright.sync_api import expect

    page = open_page(browser_with_mic(), live_server.http_url)
    # (Dash renders the components after the scripts have loaded: wait for each.)
    for name in ("Start the conversation", "Stop the conversation", "Mute the microphone",
                 "Send the message"):
        expect(page.get_by_role("button", name=name)).to_have_count(1)
    expect(page.get_by_label("Message to the assistant")).to_have_count(1)
    assert page.locator("#controls-state").inner_text() == "Idle"
    assert page.get_by_role("button", name="Stop the conversation").is_disabled()
    assert page.evaluate("document.documentElement.lang") == "en"  # read out in English
    assert "this machine" not in page.inner_text("body")  # (false once deployed elsewhere)
    screenshots(page, "idle")
    assert not page.console_errors


def test_mute_stops_frames_and_stop_releases_the_microphone(live_server, browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    start_listening(page)
    page.wait_for_function(f"{STATS}.framesSent > 20")

    page.get_by_role("button", name="Mute the microphone").click()
    page.wait_for_function(f"{STATS}.muted")
    assert page.locator("#controls-muted").is_visible()
    assert page.get_by_role("button", name="Unmute the microphone").get_attribute("aria-pressed") == "true"
    sent = page.evaluate(f"{STATS}.framesSent")
    # About a second passes (30 visualizer frames), in which 50 frames would have gone out.
    drawn = page.evaluate(f"{STATS}.visualizerFrames")
    page.wait_for_function(f"{STATS}.visualizerFrames >= {drawn + 30}")
    assert page.evaluate(f"{STATS}.framesSent") == sent

    page.get_by_role("button", name="Unmute the microphone").click()
    page.wait_for_function(f"{STATS}.framesSent > {sent + 10}")

    assert page.evaluate(f"{STATS}.liveMicrophoneTracks") == 1
    page.get_by_role("button", name="Stop the conversation").click()
    wait_state(page, "idle")
    stats = page.evaluate(STATS)
    assert stats["liveMicrophoneTracks"] == 0 and not stats["connected"]
    assert not page.console_errors


# Each chunk's start and each shown sentence, on the player's clock: text must not run ahead.
WATCH_TEXT_AND_AUDIO = """() => {
  const app = window.VoiceChat.app;
  window.__chunkStarts = [];
  window.__shownAt = [];
  const enqueue = app.player.enqueue.bind(app.player);
  app.player.enqueue = (rate, pcm) => {
    const startsAt = enqueue(rate, pcm);
    window.__chunkStarts.push(startsAt);
    return startsAt;
  };
  const append = app.ui.appendReply.bind(app.ui);
  app.ui.appendReply = (turn, text) => {
    window.__shownAt.push(app.player.context.currentTime);
    append(turn, text);
  };
}"""


def test_a_typed_message_gets_a_spoken_reply(live_server, browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    page.evaluate(WATCH_TEXT_AND_AUDIO)
    box = page.get_by_label("Message to the assistant")
    box.fill("What is the capital of France?")
    box.press("Enter")
    page.locator(".message-user .message-text").first.wait_for(timeout=30_000)
    page.locator(".message-assistant .message-text").first.wait_for(timeout=30_000)
    page.wait_for_function(f"{STATS}.player.scheduledSeconds >= 0.5", timeout=30_000)
    assert page.locator(".message-user .message-text").first.inner_text() == "What is the capital of France?"
    assert box.input_value() == ""
    page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'assistant' && m.latencyMs !== null)",
                           timeout=30_000)
    assert " s" in page.locator(".message-assistant .message-meta").first.inner_text()
    first_sound = min(page.evaluate("window.__chunkStarts"))
    shown = page.evaluate("window.__shownAt")
    assert shown and min(shown) >= first_sound - 0.02  # the words appear as they are spoken
    assert page.evaluate(f"{STATS}.liveMicrophoneTracks") == 0  # typing needs no microphone
    assert not page.console_errors


def test_keyboard_shortcuts_start_mute_and_stop(live_server, browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    page.locator("body").press("s")
    wait_state(page, "listening")
    page.locator("body").press("m")
    page.wait_for_function(f"{STATS}.muted")
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "composer-input"
    page.keyboard.press("s")  # typed into the box, not a shortcut
    assert page.evaluate(f"{STATS}.running")
    page.keyboard.press("Escape")  # leaves the box
    page.locator("body").press("Escape")
    wait_state(page, "idle")
    assert page.evaluate(f"{STATS}.liveMicrophoneTracks") == 0


def test_a_denied_microphone_says_so_and_offers_to_try_again(live_server, browser_with_mic) -> None:
    page = open_page(browser_with_mic(allow_microphone=False), live_server.http_url)
    page.get_by_role("button", name="Start the conversation").click()
    wait_state(page, "error")
    problem = page.evaluate(f"{STATS}.problem")
    assert "Microphone access was denied" in problem["message"]
    assert problem["actionLabel"] == "Try again"
    assert page.get_by_role("button", name="Try again").is_visible()
    assert page.get_by_role("button", name="Start the conversation").is_enabled()
    screenshots(page, "error")


@pytest.fixture
def own_server() -> Iterator[ServerProcess]:
    server = ServerProcess(env={"VOICECHAT_GREETING_AFTER_MS": "0"}, port=free_port())
    server.start()
    yield server
    server.stop()


def test_a_lost_server_is_reported_and_the_page_reconnects(own_server, browser_with_mic) -> None:
    page = open_page(browser_with_mic(), own_server.http_url)
    start_listening(page)

    own_server.kill()
    wait_state(page, "reconnecting", timeout=10_000)
    problem = page.evaluate(f"{STATS}.problem")
    assert "connection to the server was lost" in problem["message"]
    assert problem["actionLabel"] == "Reconnect now"
    screenshots(page, "reconnecting")

    own_server.start()  # same port; the page keeps trying with backoff (at most 10 s apart)
    wait_state(page, "listening", timeout=60_000)
    page.wait_for_function(f"{STATS}.connected && {STATS}.framesSent > 10", timeout=10_000)
    assert page.evaluate(f"{STATS}.running")
    # The browser itself logs the refused connection attempts; nothing else may fail.
    unexpected = [e for e in page.console_errors
                  if "WebSocket" not in e and "ERR_CONNECTION_REFUSED" not in e]
    assert not unexpected, unexpected


def test_settings_apply_at_once_and_are_remembered(live_server, browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    start_listening(page)
    page.wait_for_function(f"{STATS}.connected")

    page.get_by_role("button", name="Open the settings").click()
    drawer = page.locator(".ant-drawer-content")
    drawer.get_by_text("Patient", exact=True).click()
    page.wait_for_function(f"({STATS}.appliedSettings || {{}}).patience === 'patient'")
    drawer.get_by_text("One sentence", exact=True).click()
    page.wait_for_function(f"({STATS}.appliedSettings || {{}}).max_sentences === 1")
    assert "gemma3-270m" in page.locator("#settings-providers").inner_text()
    drawer.locator(".ant-segmented-item-selected", has_text="One sentence").wait_for()
    screenshots(page, "settings")

    page.reload()
    page.wait_for_function("window.VoiceChat && window.VoiceChat.app")
    stored = page.evaluate(f"{STATS}.settings")
    assert {key: stored[key] for key in ("vad_aggressiveness", "patience", "max_sentences")} == {
        "vad_aggressiveness": 2, "patience": "patient", "max_sentences": 1}
    page.get_by_role("button", name="Open the settings").click()
    page.wait_for_function(  # (the listening choices; the Sound section has one of its own)
        "['settings-vad', 'settings-patience', 'settings-length'].map(id => "
        "(document.querySelector(`#${id} .ant-segmented-item-selected`) || {}).innerText).join('|')"
        " === 'Normal|Patient|One sentence'")

    page.get_by_role("button", name="Reset the settings to the defaults").click()
    page.wait_for_function(f"{STATS}.settings === null")
    assert page.evaluate("window.localStorage.getItem('voicechat.settings')") is None
