"""Provider faults with the real pipeline: each provider raising, hanging past its
deadline or returning garbage; the conversation goes on. (How fast it recovers is a
figure with a target, measured by ``make soak``: a timed assertion here would fail on a
busy machine without anything being wrong.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.providers.base import Providers
from core.settings import Settings
from monitoring.clients.voice_client import VoiceClient
from monitoring.servers.inprocess_server import InProcessServer
from monitoring.soak.fault_drill import drill
from monitoring.soak.fault_injection import FaultyLLM, FaultySTT, FaultyTTS


@pytest.fixture(scope="module")
def faulty_server(real_providers: Providers) -> Iterator[tuple[InProcessServer, Providers]]:
    faulty = Providers(FaultySTT(real_providers.stt), FaultyLLM(real_providers.llm),
                       FaultyTTS(real_providers.tts))
    settings = Settings().replace(greeting_after_ms=0, thinking_cue_ms=0, db_path="")
    with InProcessServer(settings, faulty) as server:
        yield server, faulty


@pytest.mark.parametrize("mode", ["raise", "hang", "garbage"])
@pytest.mark.parametrize("role", ["stt", "llm", "tts"])
def test_the_conversation_recovers_from_a_provider_fault(faulty_server, role, mode) -> None:
    server, faulty = faulty_server
    client = VoiceClient(server.ws_url)
    try:
        client.start()
        result = drill(client, getattr(faulty, role), role, mode)
        assert result.recovered and result.recovery_s is not None, result
        if mode == "hang":  # past the deadline the turn is given up, and the person told so
            assert result.failed_turns == 1 and result.told, result
        else:  # one retry hides a fault that happens once
            assert result.failed_turns == 0, result
        assert client.audio_after_clear == 0
    finally:
        client.close()
