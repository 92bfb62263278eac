"""The app as docs/deploy.md serves it: Debian's nginx with the shipped config in front,
over HTTPS under a public-looking name, a passcode asked for, and a spoken conversation
in Chromium through it. Opened over plain HTTP from "another device", the page says why
the microphone cannot work instead of failing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitoring.servers.server_process import ServerProcess
from monitoring.servers.tls_proxy import TlsProxy
from tests.browser.page import STATS, open_page, screenshots, wait_state
from tests.conftest import FIXTURES

pytestmark = pytest.mark.browser

NAME = "voice.test"  # resolved to 127.0.0.1 by the browser alone
PLAIN = "plain.test"
PASSCODE = "through the proxy"


@pytest.fixture(scope="module")
def behind_proxy() -> Iterator[tuple[ServerProcess, TlsProxy]]:
    server = ServerProcess(env={"VOICECHAT_GREETING_AFTER_MS": "0", "VOICECHAT_TRUSTED_PROXIES": "127.0.0.1",
                                "VOICECHAT_ALLOWED_HOSTS": f"{NAME},{PLAIN}",
                                "VOICECHAT_ACCESS_PASSCODE": PASSCODE})
    server.start()
    proxy = TlsProxy(server.port, NAME).start()
    yield server, proxy
    proxy.stop()
    server.stop()


def test_a_spoken_conversation_over_https_through_nginx(behind_proxy, browser_with_mic) -> None:
    _, proxy = behind_proxy
    context = browser_with_mic(FIXTURES / "question_1.wav", resolve={NAME: "127.0.0.1"}, self_signed_ok=True)
    page = open_page(context, proxy.url)
    assert page.evaluate("window.isSecureContext && location.protocol === 'https:'")
    page.get_by_role("button", name="Start the conversation").click()
    page.locator("#access-passcode").fill(PASSCODE)
    page.get_by_role("button", name="Continue").click()
    assistant = page.locator(".message-assistant .message-text")
    assistant.first.wait_for(timeout=60_000)
    user = page.locator(".message-user .message-text")
    assert "capital" in user.first.inner_text().lower()
    page.wait_for_function(f"{STATS}.player.scheduledSeconds >= 1.0", timeout=30_000)
    assert not page.console_errors, page.console_errors  # type: ignore[attr-defined]


def test_plain_http_from_another_device_says_the_microphone_needs_https(behind_proxy,
                                                                       browser_with_mic) -> None:
    server, _ = behind_proxy
    context = browser_with_mic(resolve={PLAIN: "127.0.0.1"})
    page = open_page(context, f"http://{PLAIN}:{server.port}")
    assert not page.evaluate("window.isSecureContext")
    page.get_by_role("button", name="Start the conversation").click()
    wait_state(page, "error")
    problem = page.evaluate(f"{STATS}.problem")
    assert "HTTPS" in problem["message"] and "localhost" in problem["message"]
    assert problem["actionLabel"] is None  # trying again cannot help
    screenshots(page, "insecure")
    assert not page.console_errors, page.console_errors  # type: ignore[attr-defined]
