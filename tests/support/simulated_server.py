"""A real server in the test's process whose models are simulated (quick, no weights):
for the tests of the page and the protocol that do not need real speech."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core.providers.base import Providers
from core.providers.simulated import SimulatedLLM, SimulatedSTT, SimulatedTimings, SimulatedTTS
from core.settings import Settings
from monitoring.servers.inprocess_server import InProcessServer

QUICK = SimulatedTimings(stt_ms=50, llm_first_token_ms=50, tts_first_audio_ms=50)


@contextmanager
def simulated_server(**settings: object) -> Iterator[InProcessServer]:
    """``settings``: any of ``core.settings.Settings``'s, over no greeting and no store."""
    chosen = Settings().replace(**{"greeting_after_ms": 0, "db_path": "", **settings})
    providers = Providers(SimulatedSTT(QUICK), SimulatedLLM(QUICK), SimulatedTTS(QUICK))
    with InProcessServer(chosen, providers) as server:
        yield server
