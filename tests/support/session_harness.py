"""A real ``Session`` with fake providers and a manual clock, and the log of what it
sent in the browser protocol's form (serialized and parsed back, as a client sees it)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from core.conversation.events import OutputEvent
from core.metrics import Metrics
from core.providers.catalog import ProviderCatalog
from core.providers.registry import Providers
from core.runtime import engine_config
from core.session.model_workers import ModelWorkers
from core.session.services import SessionServices
from core.session.session import Session
from core.settings import Settings
from core.store.conversations import ConversationStore
from core.transport.control_handlers import handle_control
from core.transport.wire import AudioMessage, decode_reply_audio, encode_event
from monitoring.metrics.monitor import PerformanceMonitor
from tests.support.clock import ManualClock
from tests.support.wait import wait_until


class SentLog:
    """A session's output port that keeps what a browser would receive, in order."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any] | AudioMessage] = []
        self.raw: list[OutputEvent] = []
        self.times: list[float] = []  # time.monotonic() at each item's arrival
        self._cond = threading.Condition()

    def deliver(self, event: OutputEvent) -> None:
        payload = encode_event(event)
        item = json.loads(payload) if isinstance(payload, str) else decode_reply_audio(payload)
        with self._cond:
            self.raw.append(event)
            self.items.append(item)
            self.times.append(time.monotonic())
            self._cond.notify_all()

    def arrived_at(self, item: dict[str, Any] | AudioMessage) -> float:
        with self._cond:
            return self.times[next(i for i, seen in enumerate(self.items) if seen is item)]

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [i for i in self.items if isinstance(i, dict) and (kind is None or i["type"] == kind)]

    def audio(self) -> list[AudioMessage]:
        with self._cond:
            return [i for i in self.items if isinstance(i, AudioMessage)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        wait_until(predicate, timeout, f"what was sent; so far: {self.summary()}", self._cond)

    def wait_event(self, kind: str, **fields: Any) -> dict[str, Any]:
        def match() -> list[dict[str, Any]]:
            return [e for e in self.events(kind) if all(e.get(k) == v for k, v in fields.items())]

        self.wait_for(lambda: bool(match()))
        return match()[0]

    def summary(self) -> list[str]:
        return [i["type"] if isinstance(i, dict) else f"audio(turn {i.turn})" for i in self.items]


class Harness:
    """Session time moves only when the test moves it (``speak`` moves it 20 ms a frame)."""

    def __init__(self, settings: Settings, providers: Providers, store: ConversationStore | None = None,
                 metrics: Metrics | None = None, workers: ModelWorkers | None = None) -> None:
        """``workers``: another harness's pools, shared as a process's sessions share them."""
        self.providers = providers
        self.clock = ManualClock()
        self._own_workers = workers is None
        self.workers = workers or ModelWorkers(settings.turn_workers, settings.turn_backlog)
        self.catalog = ProviderCatalog(settings, None, providers)
        self.sent = SentLog()
        self.monitor = metrics or PerformanceMonitor()
        services = SessionServices(self.workers, self.catalog, self.monitor, engine_config(settings, None),
                                   store)
        self.session = Session("test-session", settings, services, self.sent, clock=self.clock)

    def handle_text(self, text: str) -> None:
        """A control message as the browser's connection hands it over."""
        handle_control(self.session, text)

    def send(self, **message: Any) -> None:
        self.handle_text(json.dumps(message))

    def close(self) -> None:
        self.session.close()
        if self._own_workers:
            self.workers.shutdown()
