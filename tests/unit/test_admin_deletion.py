"""An admin deletes a stored conversation with the token; nobody else can."""

from __future__ import annotations

from pathlib import Path

from core.providers.base import Providers
from core.runtime import VoiceRuntime
from core.settings import Settings
from monitoring.metrics.monitor import PerformanceMonitor
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS

TOKEN = "admin-deletion-token"


def test_an_admin_deletes_a_conversation_from_the_store(tmp_path: Path) -> None:
    from app import create_app

    settings = Settings().replace(admin_token=TOKEN, db_path=str(tmp_path / "turns.db"), greeting_after_ms=0)
    runtime = VoiceRuntime(settings, providers=Providers(FakeSTT(), FakeLLM(), FakeTTS()),
                           metrics=PerformanceMonitor())
    try:
        store = runtime.store
        assert store is not None
        for session_id in ("kept", "gone"):
            store.record(session_id, 1, "user", f"hello from {session_id}")
        assert store.flush()
        client = create_app(runtime).server.test_client()
        url = "/api/conversations/gone"
        assert client.delete(url).status_code == 401
        assert client.delete(url, headers={"Authorization": "Bearer wrong-token-here"}).status_code == 401
        assert store.turns("gone")  # refused: nothing deleted
        admin = {"Authorization": f"Bearer {TOKEN}"}
        bad = client.delete("/api/conversations/not%20an%20id", headers=admin)
        assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_session_id"
        done = client.delete(url, headers=admin)
        assert done.status_code == 200 and done.get_json() == {"deleted": "gone", "stored": True}
        assert store.turns("gone") == []  # written before the answer
        assert [t.text for t in store.turns("kept")] == ["hello from kept"]
    finally:
        runtime.close()


def test_an_admin_deletes_a_conversation_that_is_going_on(tmp_path: Path) -> None:
    """The person on the page is told at once and keeps talking in a fresh conversation."""
    import json
    import urllib.request

    import websocket

    from monitoring.servers.inprocess_server import InProcessServer

    settings = Settings().replace(admin_token=TOKEN, db_path=str(tmp_path / "turns.db"), greeting_after_ms=0)
    llm = FakeLLM()
    with InProcessServer(settings, Providers(FakeSTT(), llm, FakeTTS())) as server:
        ws = websocket.create_connection(server.ws_url, timeout=10)
        session_id = json.loads(ws.recv())["session_id"]

        def next_event(kind: str) -> dict:
            while True:
                message = ws.recv()
                if isinstance(message, str) and (event := json.loads(message))["type"] == kind:
                    return event

        ws.send(json.dumps({"type": "text", "text": "My name is Ada."}))
        next_event("reply_done")
        store = server.runtime.store
        assert store is not None and store.flush() and store.turns(session_id)
        request = urllib.request.Request(f"{server.http_url}/api/conversations/{session_id}", method="DELETE",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.load(answer) == {"deleted": session_id, "stored": True}
        assert next_event("conversation_deleted")["stored"] is True
        assert store.turns(session_id) == []
        ws.send(json.dumps({"type": "text", "text": "What is my name?"}))
        next_event("reply_done")  # the session goes on, its history gone
        assert "Ada" not in " ".join(m.text for m in llm.histories[-1])
        assert server.runtime.pool.live(session_id) is not None
        ws.close()
