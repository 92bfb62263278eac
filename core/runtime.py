"""Everything a server process shares between sessions, created once at start-up."""

from __future__ import annotations

import logging
import time

from core.async_runner import AsyncRunner
from core.connection_pool import ConnectionPool
from core.processor import TurnProcessor
from core.providers.registry import Providers, build_providers
from core.settings import Settings
from monitoring.monitor import PerformanceMonitor

log = logging.getLogger(__name__)


class VoiceRuntime:
    def __init__(self, settings: Settings, providers: Providers | None = None,
                 runner: AsyncRunner | None = None) -> None:
        self.settings = settings
        self.runner = runner or AsyncRunner()
        started = time.perf_counter()
        self.providers = providers or build_providers(settings, self.runner)
        log.info("providers loaded in %.0f ms", (time.perf_counter() - started) * 1000)
        self.processor = TurnProcessor(self.providers, settings.turn_workers, settings.turn_backlog)
        self.pool = ConnectionPool(settings.max_sessions)
        self.monitor = PerformanceMonitor()

    def warm_up(self) -> None:
        started = time.perf_counter()
        self.providers.warm_up()
        log.info("warm-up done in %.0f ms", (time.perf_counter() - started) * 1000)

    def close(self) -> None:
        self.pool.close_all()
        self.processor.shutdown()
        self.providers.close()
        self.runner.stop()
