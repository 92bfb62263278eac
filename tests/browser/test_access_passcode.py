"""A private server in a real browser: the page asks for the passcode before the first
session, says when it is wrong, and talks once it is right."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitoring.servers.server_process import ServerProcess
from monitoring.servers.simulated import SIMULATED_ENV
from tests.browser.page import STATS, open_page, screenshots

pytestmark = pytest.mark.browser

PASSCODE = "open sesame please"
ANSWERED = f"{STATS}.messages.filter((m) => m.role === 'assistant' && m.text).length"


@pytest.fixture
def private_server() -> Iterator[ServerProcess]:
    server = ServerProcess(env={**SIMULATED_ENV, "VOICECHAT_ACCESS_PASSCODE": PASSCODE})
    server.start()
    yield server
    server.stop()


def test_the_page_asks_for_the_passcode_and_then_talks(private_server, browser_with_mic) -> None:
    from playwright.sync_api import expect

    page = open_page(browser_with_mic(), private_server.http_url)
    gate = page.locator("#access-gate")
    expect(gate).to_be_hidden()
    box = page.get_by_label("Message to the assistant")
    box.fill("Hello there.")
    box.press("Enter")
    expect(gate).to_be_visible()
    passcode = page.locator("#access-passcode")
    expect(passcode).to_be_focused()
    passcode.fill("a wrong guess")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#access-message")).to_contain_text("not right")
    screenshots(page, "passcode")
    passcode.fill(PASSCODE)
    page.get_by_role("button", name="Continue").click()
    expect(gate).to_be_hidden()
    page.wait_for_function(f"{ANSWERED} > 0", timeout=30_000)
    assert page.evaluate("sessionStorage.getItem('voicechat.ticket')")  # the renewed ticket, kept
    # The wrong guess is the one request the browser itself reports; nothing else may fail.
    unexpected = [e for e in page.console_errors if "401" not in e]  # type: ignore[attr-defined]
    assert not unexpected, unexpected
