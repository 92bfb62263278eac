"""On the admin page: pick a stored conversation, read it, find words in it, export it,
delete it."""

from __future__ import annotations

import json

import websocket

from tests.browser.page import SCREENSHOTS
from tests.support.simulated_server import simulated_server

TOKEN = "admin-viewer-token-0123"


def typed_conversation(ws_url: str, questions: list[str]) -> str:
    """A conversation of typed questions, each answered; its session id."""
    ws = websocket.create_connection(ws_url, timeout=10)
    try:
        session_id = json.loads(ws.recv())["session_id"]
        for turn, question in enumerate(questions, start=1):
            ws.send(json.dumps({"type": "text", "text": question}))
            while True:
                message = ws.recv()
                if isinstance(message, str) and json.loads(message).get("type") == "reply_done":
                    ws.send(json.dumps({"type": "playback_done", "turn": turn}))
                    break
        return session_id
    finally:
        ws.close()


def test_an_admin_reads_finds_exports_and_deletes_a_conversation(browser_with_mic, tmp_path) -> None:
    with simulated_server(admin_token=TOKEN, db_path=str(tmp_path / "turns.db"), turns_per_minute=0,
                          address_turns_per_minute=0) as server:
        session_id = typed_conversation(server.ws_url, ["Tell me about volcanoes.", "And about glaciers?"])
        page = browser_with_mic().new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(server.http_url + "/admin")
        page.get_by_role("textbox", name="Admin token").fill(TOKEN)
        page.keyboard.press("Enter")
        row = page.locator("#admin-conversations .ant-table-row", has_text=session_id[:8])
        row.locator("input[type=radio]").check()

        viewer = page.locator("#admin-transcript")
        viewer.locator(".ant-table-row").first.wait_for()
        assert viewer.locator(".ant-table-row").count() == 4  # two questions, two answers
        assert "Tell me about volcanoes." in viewer.inner_text()
        holding = [t for t in server.runtime.store.turns(session_id) if "glaciers" in t.text.lower()]
        assert 1 <= len(holding) < 4  # (the simulated replies may say the topic back)
        page.get_by_role("textbox", name="Find words in the conversation").fill("glaciers")
        page.wait_for_function(f"document.querySelectorAll('#admin-transcript .ant-table-row').length === "
                               f"{len(holding)}")
        assert "with “glaciers”" in viewer.inner_text()
        viewer.screenshot(path=str(SCREENSHOTS / "admin-conversation.png"))

        with page.expect_download() as download:
            viewer.get_by_role("button", name="Export").click()
        exported = download.value.path().read_text(encoding="utf-8")
        assert exported.startswith(f"Conversation {session_id}") and "You: And about glaciers?" in exported

        viewer.get_by_role("button", name="Delete").click()
        page.locator(".ant-popconfirm").get_by_role("button", name="Delete").click()
        viewer.wait_for(state="hidden")
        assert server.runtime.store.turns(session_id) == []
        page.wait_for_function(f"!document.querySelector('#admin-conversations').innerText.includes("
                               f"{session_id[:8]!r})", timeout=10_000)
