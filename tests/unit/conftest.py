from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.providers.base import Providers
from core.session.model_workers import ModelWorkers
from core.settings import Settings
from tests.support.app_routes import app_with_token  # noqa: F401 - a fixture, for the routing tests
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.session_harness import Harness
from tests.support.ws_peer import make_pair, pair  # noqa: F401 - fixtures, for the WebSocket tests


@pytest.fixture
def make_harness() -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(stt: FakeSTT | None = None, llm: FakeLLM | None = None, tts: FakeTTS | None = None,
             workers: ModelWorkers | None = None, **settings: Any) -> Harness:
        providers = Providers(stt or FakeSTT(), llm or FakeLLM(), tts or FakeTTS())
        # The synthetic bursts of tests/support/synthetic.py are voice-like but not speech:
        # the neural confirmation (tested on real speech elsewhere) would reject them.
        settings = {"greeting_after_ms": 0, "vad_neural": False, **settings}
        harness = Harness(Settings().replace(**settings), providers, workers=workers)
        harness.session.open()
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


@pytest.fixture
def guard() -> Iterator[Callable[[Any], Any]]:
    """Registers guarded providers to close after the test (which also ends any hang)."""
    made: list[Any] = []

    def keep(guarded: Any) -> Any:
        made.append(guarded)
        return guarded

    yield keep
    for guarded in made:
        guarded.close()
