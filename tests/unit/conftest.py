from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.conversation_store import ConversationStore
from core.model_workers import ModelWorkers
from core.protocol import AudioMessage, decode_reply_audio
from core.provider_catalog import ProviderCatalog
from core.providers.registry import Providers
from core.runtime import engine_config
from core.session import Session, SessionServices
from core.settings import Settings
from monitoring.monitor import PerformanceMonitor
from tests.fakes import FakeLLM, FakeSTT, FakeTTS


class SentLog:
    """What a session sent, in order; tests wait on it with a timeout, never a sleep."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any] | AudioMessage] = []
        self._cond = threading.Condition()

    def __call__(self, payload: str | bytes) -> None:
        item = json.loads(payload) if isinstance(payload, str) else decode_reply_audio(payload)
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [i for i in self.items if isinstance(i, dict) and (kind is None or i["type"] == kind)]

    def audio(self) -> list[AudioMessage]:
        with self._cond:
            return [i for i in self.items if isinstance(i, AudioMessage)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise AssertionError(f"timed out; sent so far: {self.summary()}")

    def wait_event(self, kind: str, **fields: Any) -> dict[str, Any]:
        def match() -> list[dict[str, Any]]:
            return [e for e in self.events(kind) if all(e.get(k) == v for k, v in fields.items())]

        self.wait_for(lambda: bool(match()))
        return match()[0]

    def summary(self) -> list[str]:
        return [i["type"] if isinstance(i, dict) else f"audio(turn {i.turn})" for i in self.items]


class ManualClock:
    """Session time that moves only when the test feeds audio (20 ms a frame)."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


class Harness:
    def __init__(self, settings: Settings, providers: Providers,
                 store: ConversationStore | None = None) -> None:
        self.providers = providers
        self.clock = ManualClock()
        self.workers = ModelWorkers(settings.turn_workers, settings.turn_backlog)
        self.catalog = ProviderCatalog(settings, None, providers)
        self.sent = SentLog()
        self.monitor = PerformanceMonitor()
        services = SessionServices(self.workers, self.catalog, self.monitor, engine_config(settings, None),
                                   store)
        self.session = Session("test-session", settings, services, self.sent, clock=self.clock)

    def close(self) -> None:
        self.session.close()
        self.workers.shutdown()


@pytest.fixture
def make_harness() -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(stt: FakeSTT | None = None, llm: FakeLLM | None = None, tts: FakeTTS | None = None,
             **settings: Any) -> Harness:
        providers = Providers(stt or FakeSTT(), llm or FakeLLM(), tts or FakeTTS())
        # The synthetic bursts of tests/synthetic.py are voice-like but not speech: the
        # neural confirmation (tested on real speech elsewhere) would reject them.
        settings = {"greeting_after_ms": 0, "vad_neural": False, **settings}
        harness = Harness(Settings().replace(**settings), providers)
        harness.session.open()
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
