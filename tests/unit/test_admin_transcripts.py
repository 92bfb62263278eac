"""An admin reads a stored conversation: its turns as JSON, the ones holding some words,
or the whole as text to export; nobody else can."""

from __future__ import annotations

from pathlib import Path

from core.providers.base import Providers
from core.runtime import VoiceRuntime
from core.settings import Settings
from monitoring.metrics.monitor import PerformanceMonitor
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS

TOKEN = "admin-transcripts-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def test_an_admin_reads_finds_and_exports_a_stored_conversation(tmp_path: Path) -> None:
    from app import create_app

    settings = Settings().replace(admin_token=TOKEN, db_path=str(tmp_path / "turns.db"), greeting_after_ms=0)
    runtime = VoiceRuntime(settings, providers=Providers(FakeSTT(), FakeLLM(), FakeTTS()),
                           metrics=PerformanceMonitor())
    try:
        store = runtime.store
        assert store is not None
        store.record("talk-1", 1, "user", "What is the capital of France?")
        store.record("talk-1", 1, "assistant", "Paris. …", cut=True)
        store.record("talk-1", 2, "user", "And of Spain?")
        store.record("talk-1", 2, "assistant", "Madrid.")
        assert store.flush()
        client = create_app(runtime).server.test_client()
        url = "/api/conversations/talk-1"
        assert client.get(url).status_code == 401  # the token first

        whole = client.get(url, headers=ADMIN).get_json()
        assert [(t["turn"], t["role"], t["cut"]) for t in whole["turns"]] == [
            (1, "user", False), (1, "assistant", True), (2, "user", False), (2, "assistant", False)]
        found = client.get(url + "?q=capital%20FRANCE", headers=ADMIN).get_json()["turns"]
        assert [t["text"] for t in found] == ["What is the capital of France?"]

        text = client.get(url + "?format=text", headers=ADMIN)
        assert text.headers["Content-Disposition"] == 'attachment; filename="conversation-talk-1.txt"'
        lines = text.get_data(as_text=True).splitlines()
        assert lines[0] == "Conversation talk-1" and len(lines) == 5
        assert lines[2].endswith("Assistant: Paris. … [cut off]") and "You: And of Spain?" in lines[3]

        bad = client.get("/api/conversations/not%20an%20id", headers=ADMIN)
        assert bad.status_code == 400
    finally:
        runtime.close()


def test_without_a_store_there_is_nothing_to_read(tmp_path: Path) -> None:
    from app import create_app

    settings = Settings().replace(admin_token=TOKEN, db_path="", greeting_after_ms=0)
    runtime = VoiceRuntime(settings, providers=Providers(FakeSTT(), FakeLLM(), FakeTTS()),
                           metrics=PerformanceMonitor())
    try:
        response = create_app(runtime).server.test_client().get("/api/conversations/talk-1", headers=ADMIN)
        assert response.status_code == 404 and response.get_json()["error"] == "no_store"
    finally:
        runtime.close()
