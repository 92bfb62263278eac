"""The person deletes the conversation from the page: it goes from the page and from the
server's store (the real SQLite file), and the page says what the server keeps."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.browser.page import STATS, open_page

pytestmark = pytest.mark.browser

ANSWERED = f"{STATS}.messages.filter(m => m.role === 'assistant' && m.latencyMs !== null).length"


def stored_turns(db_path: str, session_id: str) -> int:
    with sqlite3.connect(Path(db_path).as_uri() + "?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM turns WHERE session_id = ?", (session_id,)).fetchone()[0]


def test_delete_removes_the_conversation_from_the_page_and_the_store(live_server, browser_with_mic) -> None:
    page = open_page(browser_with_mic(), live_server.http_url)
    assert "stores what is said here" in page.locator("#transcript-privacy").inner_text()
    box = page.get_by_label("Message to the assistant")
    box.fill("My name is Ada.")
    box.press("Enter")
    page.wait_for_function(f"{ANSWERED} > 0", timeout=90_000)
    session_id = page.evaluate(f"{STATS}.session.id")
    db_path = live_server.env["VOICECHAT_DB_PATH"]
    assert stored_turns(db_path, session_id) == 2

    page.get_by_role("button", name="Delete this conversation").click()
    page.get_by_role("button", name="Delete", exact=True).click()  # the confirmation
    page.wait_for_function(f"{STATS}.messages.length === 0", timeout=30_000)
    assert stored_turns(db_path, session_id) == 0  # committed before the page was told
    assert page.evaluate(f"{STATS}.problem")["kind"] == "success"
    empty = page.locator("#transcript-empty")
    assert empty.is_visible() and "Press Start" in empty.inner_text()

    page.reload()  # nothing of it comes back (an emptied session is not kept for a resume)
    page.wait_for_function("window.VoiceChat && window.VoiceChat.app")
    box = page.get_by_label("Message to the assistant")
    box.fill("Hello.")
    box.press("Enter")
    page.wait_for_function(f"{ANSWERED} > 0", timeout=90_000)
    said = [m["text"] for m in page.evaluate(f"{STATS}.messages") if m["role"] == "user"]
    assert said == ["Hello."]
    assert not page.console_errors  # type: ignore[attr-defined]
