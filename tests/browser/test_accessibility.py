"""Every state of the voice page and the admin page, light and dark, checked with
axe-core: no serious or critical WCAG 2.1 AA violation. The dark screenshots are taken
here (the light ones by the tests of each state)."""

from __future__ import annotations

import json

import pytest
import websocket

from tests.browser.accessibility import serious_violations
from tests.browser.page import PLOTS_FIT, SCREENSHOTS, STATS, open_page, wait_state
from tests.support.simulated_server import simulated_server
from tests.support.wait import wait_until

TOKEN = "accessibility-admin-token"
# Ant Design's opening and closing animations are over (mid-fade colours fail contrast).
STILL = """() => !document.querySelector('[class*="-enter"], [class*="-appear"], [class*="-leave"]')"""


def check(page, state: str, scheme: str, found: dict[str, list[str]],  # type: ignore[no-untyped-def]
          settled: str = STILL) -> None:
    """axe on the page now, wide and narrow (``settled``: what to wait for after a
    resize); in dark mode each is photographed too."""
    for name, width, height in (("wide", 1280, 720), ("narrow", 390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.mouse.move(0, 0)  # (no button left hovered by where the last click was: same run to run)
        page.wait_for_function(settled)
        found[f"{state} {width}px"] = serious_violations(page)
        if scheme == "dark":
            page.screenshot(path=str(SCREENSHOTS / f"{state}-dark-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_state_has_no_serious_accessibility_violation(browser_with_mic, scheme) -> None:
    found: dict[str, list[str]] = {}
    with simulated_server(admin_token=TOKEN, max_sessions=1) as server:
        context = browser_with_mic(color_scheme=scheme)
        page = open_page(context, server.http_url)
        check(page, "idle", scheme, found)

        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        page.get_by_placeholder("Type a message").fill("What can you tell me about the sea?")
        page.keyboard.press("Enter")
        page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'assistant' && m.text)")
        check(page, "conversation", scheme, found)

        page.get_by_role("button", name="Open the settings").click()
        page.locator(".ant-drawer-content").wait_for()
        check(page, "settings", scheme, found)
        page.keyboard.press("Escape")
        page.locator(".ant-drawer-content").wait_for(state="hidden")

        page.get_by_role("button", name="Stop the conversation").click()
        wait_state(page, "idle")
        wait_until(lambda: len(server.runtime.pool) == 0, timeout=10)
        holder = websocket.create_connection(server.ws_url, timeout=10)  # the one place taken
        wait_until(lambda: len(server.runtime.pool) == 1, timeout=10)
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "waiting", timeout=10_000)
        check(page, "server-full", scheme, found)
        page.get_by_role("button", name="Stop the conversation").click()
        holder.close()

        denied = open_page(browser_with_mic(allow_microphone=False, color_scheme=scheme), server.http_url)
        denied.get_by_role("button", name="Start the conversation").click()
        wait_state(denied, "error")
        check(denied, "error", scheme, found)

        admin = context.new_page()
        admin.goto(server.http_url + "/admin")
        admin.get_by_role("textbox", name="Admin token").wait_for()
        check(admin, "admin-login", scheme, found)
        admin.get_by_role("textbox", name="Admin token").fill(TOKEN)
        admin.keyboard.press("Enter")
        check(admin, "admin", scheme, found, settled=f"({STILL})() && ({PLOTS_FIT})()")

    failing = {state: problems for state, problems in found.items() if problems}
    assert not failing, json.dumps(failing, indent=1)
    assert len(found) == 14  # 7 states, 2 widths


def test_the_page_follows_the_systems_light_or_dark(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(color_scheme="dark"), server.http_url)
        background = "getComputedStyle(document.body).backgroundColor"
        panel = "document.querySelector('.transcript-panel')"
        card = f"({panel} && getComputedStyle({panel}).backgroundColor)"
        page.wait_for_function(f"{background} === 'rgb(20, 20, 20)' && {card} !== 'rgb(255, 255, 255)'")
        page.emulate_media(color_scheme="light")  # the system switches: the page follows at once
        page.wait_for_function(f"{background} === 'rgb(245, 247, 250)' && {card} === 'rgb(255, 255, 255)'")
