"""The voice page in the browser's language, and in the one the person picks: the page's
own words, the scripts' words (states, the conversation), <html lang>, and the choice
kept across a reload; a link's ?lang= wins. The who-is-talking faces follow the turn."""

from __future__ import annotations

import pytest

from components import i18n
from tests.browser.accessibility import serious_violations
from tests.browser.page import STATS, open_page, screenshots, wait_state
from tests.conftest import FIXTURES
from tests.support.simulated_server import simulated_server

pytestmark = pytest.mark.browser
WHO = "document.getElementById('visualizer-who').className"


def test_a_german_browser_gets_the_page_in_german_and_may_pick_french(browser_with_mic) -> None:
    de, fr = i18n.catalogue("de"), i18n.catalogue("fr")
    with simulated_server() as server:
        page = open_page(browser_with_mic(FIXTURES / "question_1.wav", locale="de-DE"), server.http_url)
        page.get_by_role("button", name=de["Start the conversation"]).click()
        page.wait_for_function("document.documentElement.lang === 'de'")
        wait_state(page, "listening")
        assert page.locator("#controls-state").inner_text() == de["Listening"]
        # The faces: you while you talk, the assistant while it answers (the simulated one).
        page.wait_for_function(f"{WHO}.includes('who-hearing')", timeout=20_000)
        page.wait_for_function(f"{WHO}.includes('who-speaking')", timeout=20_000)
        page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'assistant' && m.text)")
        assert de["You"] in page.locator(".message-user .message-meta").first.inner_text()
        assert page.get_by_role("button", name=de["Delete this conversation"]).count() == 1
        assert serious_violations(page) == []
        screenshots(page, "conversation-de")
        page.get_by_role("button", name=de["Stop the conversation"]).click()
        wait_state(page, "idle")
        assert page.locator("#controls-state").inner_text() == de["Idle"]
        assert "who-idle" in page.evaluate(WHO)

        with page.expect_navigation():
            page.get_by_label(de["Language of this page"]).select_option("fr")
        page.wait_for_function("window.VoiceChat && window.dash_clientside.voice")
        page.get_by_role("button", name=fr["Start the conversation"]).wait_for()
        page.wait_for_function("document.documentElement.lang === 'fr'")
        page.reload()  # the choice is kept (a cookie), over the browser's German
        page.get_by_role("button", name=fr["Start the conversation"]).wait_for()
        assert page.get_by_role("button", name=de["Start the conversation"]).count() == 0
        screenshots(page, "idle-fr")  # (not Japanese: this machine's Chromium has no CJK fonts)

        page.goto(server.http_url + "/?lang=ja&mic=raw")  # a link's language wins
        page.get_by_role("button", name=i18n.catalogue("ja")["Start the conversation"]).wait_for()
        page.wait_for_function("document.documentElement.lang === 'ja'")


def test_the_headphones_advice_is_shown_in_the_pages_language(browser_with_mic) -> None:
    """The server's ``advice`` event (tests/unit/test_echo_advice.py: sent once the
    microphone hears the answers come back) in the page's words, by its code."""
    es = i18n.catalogue("es")
    with simulated_server() as server:
        page = open_page(browser_with_mic(locale="es-ES"), server.http_url)
        page.get_by_role("button", name=es["Start the conversation"]).click()
        wait_state(page, "listening")
        page.evaluate("""window.VoiceChat.app.onEvent({type: "advice", code: "headphones",
                                                        message: "(the server's English)"})""")
        advice = es["Your speakers' sound reaches the microphone: with headphones you can talk over the "
                    "answers more easily."]
        assert page.evaluate(f"{STATS}.problem") == {"message": advice, "kind": "info", "actionLabel": None}
        page.get_by_text(advice).wait_for()
        page.evaluate("""window.VoiceChat.app.onEvent({type: "advice", code: "something new",
                                                        message: "Advice this page has no words for."})""")
        page.get_by_text("Advice this page has no words for.").wait_for()  # (the server's words)
