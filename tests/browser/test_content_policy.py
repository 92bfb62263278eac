"""The page and the admin page work under their own Content-Security-Policy, enforced:
a conversation from Start to a spoken reply, and the admin page's charts, with not one
violation (Chromium reports each as a console error)."""

from __future__ import annotations

import pytest

from tests.browser.page import STATS
from tests.conftest import ADMIN_TOKEN
from tests.support.wait import wait_until

pytestmark = pytest.mark.browser


def test_a_conversation_and_the_admin_page_run_under_the_enforced_policy(live_server,
                                                                          browser_with_mic) -> None:
    context = browser_with_mic(enforce_csp=True)
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(live_server.http_url + "/?mic=raw")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]

    # (Playwright's wait_for_function uses eval, which the policy forbids: poll instead)
    def holds(expression: str) -> bool:
        guarded = f"() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }}"
        return bool(page.evaluate(guarded))

    wait_until(lambda: holds("window.VoiceChat && window.VoiceChat.app && window.dash_clientside.voice"),
               30, "the page's scripts")
    page.get_by_role("button", name="Start the conversation").click()
    wait_until(lambda: holds(f"{STATS}.state === 'listening'"), 30, "listening (the worklet loaded)")
    box = page.get_by_label("Message to the assistant")
    box.fill("What is the capital of France?")
    box.press("Enter")
    wait_until(lambda: holds(f"{STATS}.player.chunks > 0"), 60, "the spoken reply")

    assert not errors, errors
    page.goto(live_server.http_url + "/admin")
    page.get_by_role("textbox", name="Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Open the metrics").click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    assert not [e for e in errors if "Content Security Policy" in e or "Content-Security-Policy" in e], errors
    assert not errors
