"""A remote provider that stops answering is replaced by the embedded model at once,
the person is told, and it is taken back once it answers again (real models, a real
socket, an OpenAI-compatible stand-in that can be switched to failing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.providers.base import Providers
from core.settings import Settings
from monitoring.clients.voice_client import VoiceClient
from monitoring.servers.inprocess_server import InProcessServer
from monitoring.soak.fault_drill import ask
from tests.support.openai_stub import FakeOpenAIHandler, running_openai_stub

STUB_REPLY = "Paris is the capital."


@pytest.fixture
def stub_and_server(real_providers: Providers) -> Iterator[tuple[str, InProcessServer]]:
    with running_openai_stub() as url:
        settings = Settings().replace(greeting_after_ms=0, thinking_cue_ms=0, db_path="",
                                      client_base_urls=url, circuit_failures=2, circuit_probe_s=0.5)
        with InProcessServer(settings, real_providers) as server:
            yield url, server


def last_reply(client: VoiceClient) -> str:
    return client.turns[client.latest_turn()].reply_text


def test_a_failing_remote_llm_falls_back_to_the_embedded_one_and_comes_back(stub_and_server) -> None:
    url, server = stub_and_server
    client = VoiceClient(server.ws_url)
    try:
        client.start()
        client.send_json({"type": "settings", "llm_provider": "openai", "openai_base_url": url})
        assert client.wait_for(lambda: client.event_seen("settings_applied"))
        assert ask(client, "llm", "What is the capital of France?", url).answered  # type: ignore[arg-type]
        assert last_reply(client) == STUB_REPLY

        FakeOpenAIHandler.status = 500
        for question in ("What is the capital of Spain?", "What is the capital of Italy?"):
            asked = ask(client, "llm", question, url)  # type: ignore[arg-type]
            assert asked.answered and not asked.told  # the embedded model answered this turn
            assert last_reply(client) != STUB_REPLY
        assert client.wait_for(lambda: client.event_seen("provider_status", role="llm", state="fallback"))
        status = next(e for e in client.events if e["type"] == "provider_status")
        assert "not answering" in status["message"] and status["active"] != status["primary"]

        FakeOpenAIHandler.status = 200  # the server is back: the probe notices
        assert client.wait_for(lambda: client.event_seen("provider_status", role="llm", state="closed"))
        assert ask(client, "llm", "And of Germany?", url).answered  # type: ignore[arg-type]
        assert last_reply(client) == STUB_REPLY
    finally:
        client.close()
