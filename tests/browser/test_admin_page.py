"""The admin metrics page in a real browser, against the live server (real models):
the token prompt, a refused token, then live figures that follow a spoken turn."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.phone.routes import MEDIA_PATH
from monitoring.clients.twilio_client import (
    TwilioCall,
    incoming_call,
    line_noise,
    new_call_sid,
    phone_frames,
    stream_instructions,
)
from monitoring.clients.voice_client import VoiceClient, frames_of, read_wav_16k_mono
from tests.browser.page import PLOTS, PLOTS_FIT, SCREENSHOTS
from tests.conftest import ADMIN_TOKEN, FIXTURES

pytestmark = pytest.mark.browser



def open_admin(context, url: str):  # type: ignore[no-untyped-def]
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(url + "/admin")
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


def enter_token(page, token: str) -> None:  # type: ignore[no-untyped-def]
    field = page.get_by_role("textbox", name="Admin token")
    field.fill(token)
    field.press("Enter")


def spoken_turn(url: str) -> str:
    """One spoken question over the socket; the session's short id, as the table shows it."""
    client = VoiceClient(url)
    try:
        client.start()
        session_id = next(e for e in client.events if e["type"] == "ready")["session_id"]
        frames = frames_of(read_wav_16k_mono(FIXTURES / "question_1.wav"))
        client.stream(frames, until=lambda: client.event_seen("reply_done"), max_s=30)
        assert client.event_seen("reply_done")
        return str(session_id[:8])
    finally:
        client.close()


def phone_call(server) -> None:  # type: ignore[no-untyped-def]
    """A short call from the scripted Twilio: greeted, one question answered, hung up."""
    call_sid = new_call_sid()
    call = TwilioCall(stream_instructions(incoming_call(server.http_url, call_sid).text), call_sid,
                      url=server.http_url.replace("http", "ws", 1) + MEDIA_PATH)
    rng = np.random.default_rng(3)
    try:
        call.begin()
        call.stream([], until=call.reply_played(0), max_s=20)
        pause = [line_noise(rng) for _ in range(25)]  # the caller takes a breath after the greeting
        question = pause + phone_frames(read_wav_16k_mono(FIXTURES / "question_2.wav"))
        call.stream(question, until=call.reply_played(1), max_s=30)
        assert call.last_played_turn() == 2
    finally:
        call.stop()
        call.close()


def test_a_phone_call_is_on_the_admin_page_marked_as_one(live_server, browser_with_mic) -> None:
    from playwright.sync_api import expect

    phone_call(live_server)
    page = open_admin(browser_with_mic(), live_server.http_url)
    enter_token(page, ADMIN_TOKEN)
    conversation = page.locator("#admin-conversations .ant-table-row", has_text="phone call").first
    expect(conversation).to_be_visible(timeout=15_000)
    expect(conversation).to_contain_text(re.compile(r"\d{2}:\d{2}:\d{2}"))
    expect(page.locator("#admin-turns .ant-table-row", has_text="phone call").first).to_be_visible()
    page.locator(".admin-conversations-card").scroll_into_view_if_needed()
    page.locator(".admin-conversations-card").screenshot(path=str(SCREENSHOTS / "admin-phone-call.png"))
    assert not page.console_errors


def test_the_admin_page_needs_the_token_then_follows_the_server(live_server, browser_with_mic) -> None:
    from playwright.sync_api import expect

    page = open_admin(browser_with_mic(), live_server.http_url)
    dashboard = page.locator("#admin-dashboard")

    # No token yet: the prompt, a message, and nothing of the server's figures.
    expect(page.get_by_role("textbox", name="Admin token")).to_be_visible()
    expect(page.locator("#admin-message")).to_contain_text("A valid admin token is needed")
    expect(dashboard).to_be_hidden()
    expect(page.locator("#admin-cards > *")).to_have_count(0)
    expect(page.locator("#admin-turns .ant-table-row")).to_have_count(0)

    enter_token(page, "not-the-token")
    expect(page.locator("#admin-message")).to_contain_text("did not accept that token")
    expect(dashboard).to_be_hidden()
    expect(page.locator("#admin-cards > *")).to_have_count(0)

    enter_token(page, ADMIN_TOKEN)
    expect(dashboard).to_be_visible()
    expect(page.locator("#admin-message")).to_be_empty()
    expect(page.locator("#admin-cards .admin-stat")).to_have_count(8)
    expect(page.locator(PLOTS)).to_have_count(5)
    expect(page.get_by_role("textbox", name="Admin token")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('admin-token')") is not None  # this tab only
    assert ADMIN_TOKEN not in page.url

    short_id = spoken_turn(live_server.ws_url)
    # The page refreshes by itself (every 2 s): the turn appears without a reload.
    row = page.locator("#admin-turns .ant-table-row", has_text=short_id)
    expect(row).to_have_count(1, timeout=15_000)
    expect(row).to_contain_text(re.compile(r"\d{2}:\d{2}:\d{2}"))
    expect(page.locator("#admin-card-v2v-p50 .ant-statistic-content")).to_have_text(
        re.compile(r"^[\d,]+\s*ms$"))  # (2,915 ms)
    expect(page.locator("#admin-card-turns .ant-statistic-content")).not_to_have_text("0")
    expect(page.locator("#admin-chart-v2v .scatterlayer .trace")).to_have_count(2)
    expect(page.locator("#admin-providers")).to_contain_text("STT")

    page.wait_for_function(PLOTS_FIT)
    page.screenshot(path=str(SCREENSHOTS / "admin-wide.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function(PLOTS_FIT)
    page.screenshot(path=str(SCREENSHOTS / "admin-narrow.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than a phone
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Forget the admin token").click()
    expect(dashboard).to_be_hidden()
    expect(page.get_by_role("textbox", name="Admin token")).to_be_visible()
    expect(page.locator("#admin-turns .ant-table-row")).to_have_count(0)
    assert not page.console_errors


def test_keys_on_the_admin_page_do_not_start_a_conversation(live_server, browser_with_mic) -> None:
    from playwright.sync_api import expect

    page = open_admin(browser_with_mic(), live_server.http_url)
    expect(page.get_by_role("textbox", name="Admin token")).to_be_visible()
    page.locator("body").press("s")  # the voice page's shortcut for Start
    assert page.evaluate("window.VoiceChat.app.stats().state") == "idle"
    assert page.evaluate("window.VoiceChat.app.stats().liveMicrophoneTracks") == 0
