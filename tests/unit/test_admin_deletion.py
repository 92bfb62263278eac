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
