"""Sound choices in the settings drawer: the microphone used from the next Start, the
answers' volume at once, both kept in this browser."""

from __future__ import annotations

from tests.browser.page import STATS, open_page, wait_state
from tests.support.simulated_server import simulated_server

DEVICES = "window.VoiceChat.app.devices"


def test_a_chosen_microphone_is_used_and_the_volume_applies_at_once(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(), server.http_url)
        # (device names are given once the page may use the microphone)
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        page.get_by_role("button", name="Stop the conversation").click()
        wait_state(page, "idle")

        page.get_by_role("button", name="Open the settings").click()
        page.wait_for_function(f"{DEVICES}.listed && {DEVICES}.listed.mics >= 1")
        page.wait_for_function("!document.querySelector('[class*=\"-enter\"], [class*=\"-appear\"]')")
        page.locator(".ant-select:has(#settings-audio-mic) .ant-select-selector").click()
        options = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden) "
                               ".ant-select-item-option")
        options.nth(1).click()  # the first named microphone
        page.wait_for_function(f"{DEVICES}.mic !== ''")
        chosen = page.evaluate(f"{DEVICES}.mic")
        assert chosen, "no microphone was chosen"

        page.locator("#settings-audio-volume").get_by_text("Off", exact=True).click()  # volume 0
        page.wait_for_function(f"{DEVICES}.choice.volume === 0 && window.VoiceChat.app.player.volume === 0")
        page.keyboard.press("Escape")

        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        used = page.evaluate("window.VoiceChat.app.lastStream.getAudioTracks()[0].getSettings().deviceId")
        assert used == chosen
        page.reload()
        page.wait_for_function("window.VoiceChat && window.VoiceChat.app")
        assert page.evaluate(f"[{DEVICES}.mic, {DEVICES}.choice.volume]") == [chosen, 0]
        assert page.evaluate(f"{STATS}.state") in ("idle", "listening", "connecting")
