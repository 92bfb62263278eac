"""The conversation follows the talk: new messages scroll into view, unless the person
scrolled up to read; on a phone the text box stays at the bottom of the screen."""

from __future__ import annotations

from tests.browser.page import STATS, open_page
from tests.support.simulated_server import simulated_server

LIST = "document.getElementById('transcript-list')"
AT_END = f"({LIST}.scrollHeight - {LIST}.scrollTop - {LIST}.clientHeight < 40)"


def say(page, words: str, answers_before: int) -> None:  # type: ignore[no-untyped-def]
    """Type ``words`` and wait for their answer's text."""
    page.get_by_placeholder("Type a message").fill(words)
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"{STATS}.messages.filter(m => m.role === 'assistant' && m.text).length > {answers_before}",
        timeout=10_000)


def test_new_messages_scroll_into_view_unless_the_person_scrolled_up(browser_with_mic) -> None:
    with simulated_server(turns_per_minute=0, address_turns_per_minute=0) as server:  # (typed fast)
        page = open_page(browser_with_mic(), server.http_url)
        for n in range(8):
            say(page, f"Tell me about the number {n}, please, in a few words.", n)
            page.wait_for_function(AT_END, timeout=5_000)  # (the new message is in view)
        assert page.evaluate(f"{LIST}.scrollHeight > {LIST}.clientHeight + 100")  # it did overflow

        page.evaluate(f"{LIST}.scrollTop = 0")  # the person scrolls up to read
        page.wait_for_function(f"{LIST}.scrollTop === 0")
        say(page, "And one more thing.", 8)
        assert page.evaluate(f"{LIST}.scrollTop") == 0  # left where they were reading

        page.evaluate(f"{LIST}.scrollTop = {LIST}.scrollHeight")  # back down: following again
        say(page, "And the very last thing.", 9)
        page.wait_for_function(AT_END, timeout=5_000)


def test_on_a_phone_the_text_box_stays_at_the_bottom(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(), server.http_url)
        page.set_viewport_size({"width": 390, "height": 600})  # a small phone
        box = page.get_by_placeholder("Type a message")
        page.mouse.wheel(0, 0)
        top = page.evaluate("window.scrollY")
        assert top == 0
        # At the top of a page taller than the screen, the text box is still on screen.
        page.wait_for_function("document.documentElement.scrollHeight > window.innerHeight")
        bounds = box.bounding_box()
        assert bounds is not None and bounds["y"] + bounds["height"] <= 600, bounds
