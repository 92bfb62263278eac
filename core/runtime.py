"""Everything a server process shares between sessions, created once at start-up:
the providers (guarded), the model workers, the sessions (live and parked) with their
ticker, the conversation store and the metrics."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from core.conversation.config import EngineConfig
from core.metrics import Metrics, NoMetrics
from core.providers.base import ProviderError, Providers
from core.providers.catalog import ProviderCatalog
from core.providers.embedded.model_files import turn_model_file
from core.providers.registry import build_providers
from core.providers.remote.async_runner import AsyncRunner
from core.session.end_judge import EndJudge
from core.session.model_workers import ModelWorkers
from core.session.pool import ConnectionPool
from core.session.services import SessionServices
from core.session.shared_budgets import SharedAddressBudgets
from core.session.ticker import Ticker
from core.session.turn_budget import AddressBudgets
from core.settings import Settings
from core.store import redis_client
from core.store.conversations import ConversationStore
from core.store.metric_history import MetricHistory
from core.store.ownership import SessionOwnership
from core.store.parking import ParkingWriter, RedisParking
from core.store.process_registry import ProcessRegistry
from core.store.retention import Retention
from core.store.shared_limits import SharedLimits

log = logging.getLogger(__name__)


def engine_config(s: Settings, cue_audio: tuple[bytes, int] | None,
                  hear_turn_ends: bool = False) -> EngineConfig:
    return EngineConfig(
        speculate_after_ms=s.vad_speculate_after_ms,
        commit_after_ms=s.turn_commit_ms,
        commit_done_ms=s.turn_commit_done_ms,
        commit_unfinished_ms=s.vad_end_silence_ms,
        min_reply_gap_ms=s.turn_min_reply_gap_ms,
        hear_turn_ends=hear_turn_ends,
        finished_probability=s.turn_finished_probability,
        weigh_words=s.turn_weigh_words,
        fragment_probability=s.turn_fragment_probability,
        speculative_reply=s.turn_speculative_reply,
        patience=s.turn_patience,
        refractory_ms=s.refractory_ms,
        false_interruption_ms=s.false_interruption_ms,
        dedup_window_ms=s.dedup_window_ms,
        thinking_cue_ms=s.thinking_cue_ms,
        cue_audio=cue_audio,
        greeting_after_ms=s.greeting_after_ms,
        greeting_text=s.greeting_text,
        max_sentences=s.max_reply_sentences,
        first_clause_words=s.first_clause_words,
        history_messages=2 * s.history_turns,
    )


class VoiceRuntime:
    def __init__(self, settings: Settings, providers: Providers | None = None,
                 runner: AsyncRunner | None = None, metrics: Metrics | None = None) -> None:
        """``metrics``: where the figures go (``monitoring.metrics.monitor`` in a server)."""
        self.settings = settings
        self.metrics: Metrics = metrics or NoMetrics()
        self.runner = runner or AsyncRunner()
        started = time.perf_counter()
        base = providers or build_providers(settings, self.runner)
        self.catalog = ProviderCatalog(settings, self.runner, base)
        self.providers = self.catalog.defaults  # guarded: deadlines, retries, circuit, fallback
        log.info("providers loaded in %.0f ms", (time.perf_counter() - started) * 1000)
        self.workers = ModelWorkers(settings.turn_workers, settings.turn_backlog)
        self.pool = ConnectionPool(settings.max_sessions, settings.max_sessions_per_address,
                                   settings.resume_window_s)
        retention = Retention(max_age_s=settings.store_retention_days * 86_400.0,
                              max_bytes=settings.store_max_mb * 2**20)
        location = settings.store_location
        self.store = ConversationStore(location, retention=retention) if location else None
        # the admin page's figures a minute at a time, in the same database (outlives a restart)
        self.history = MetricHistory(self.store.backend) if self.store is not None else None
        self.engine_config = engine_config(settings, None)
        # State shared by several processes, through one Redis client (none without Redis).
        self._redis = redis_client.connect(settings.redis_url) if settings.redis_url else None
        redis, shared = self._redis, self._redis is not None
        self.parking = RedisParking(redis, settings.resume_window_s) if shared else None
        self.parking_writer = ParkingWriter(self.parking) if self.parking is not None else None
        self.registry = ProcessRegistry(redis, settings.own_url) if shared else None  # (for admins)
        self.ownership = (SessionOwnership(redis, self.registry.own_id)
                          if self.registry is not None else None)  # one process per conversation
        self.shared_limits = (SharedLimits(redis, settings.cluster_max_sessions,
                                           settings.max_sessions_per_address)
                              if shared else None)  # admission across processes
        turns, tokens = settings.address_turns_per_minute, settings.address_reply_tokens_per_minute
        if shared:  # what an address may spend, whichever process serves it
            fallback = lambda: self.metrics.count("shared_budgets_unavailable")  # noqa: E731
            self.turn_budgets: AddressBudgets = SharedAddressBudgets(redis, "turns", turns,
                                                                     on_fallback=fallback)
            self.reply_budgets: AddressBudgets = SharedAddressBudgets(redis, "reply_tokens", tokens,
                                                                      burst=tokens, on_fallback=fallback)
        else:
            self.turn_budgets = AddressBudgets(turns)
            self.reply_budgets = AddressBudgets(tokens, burst=tokens)
        self.ticker = Ticker(self.pool, self.metrics)
        self.warmed = False  # the models have answered once (``warm_up``)
        self.draining = False  # shutting down: no new sessions
        self._closers: list[Callable[[], None]] = []

    def on_close(self, closer: Callable[[], None]) -> None:
        """Something made for this runtime by the layers above it (the voice sockets'
        reader), to be stopped first when it closes."""
        self._closers.append(closer)

    def services(self) -> SessionServices:
        return SessionServices(self.workers, self.catalog, self.metrics, self.engine_config, self.store)

    def phone_services(self) -> SessionServices:
        """For a phone call: stored as one, and greeted as soon as the line is quiet."""
        config = dataclasses.replace(self.engine_config,
                                     greeting_after_ms=self.settings.phone_greeting_after_ms)
        return dataclasses.replace(self.services(), engine_config=config, channel="phone")

    def warm_up(self) -> None:
        started = time.perf_counter()
        self.providers.warm_up()
        if self.settings.vad_neural:  # (else the first session to connect would wait for it)
            from core.audio.neural_vad import shared_session

            shared_session()
        if self.settings.turn_model and self.workers.ends is None:
            self.workers.ends = self._turn_model()
        self.engine_config = engine_config(self.settings, self._cue_audio(),
                                           hear_turn_ends=self.workers.ends is not None)
        self.warmed = True
        log.info("warm-up done in %.0f ms", (time.perf_counter() - started) * 1000)

    def _turn_model(self) -> EndJudge | None:
        path = turn_model_file(self.settings.model_path)
        if path is None:
            log.warning("turn model: %s not found (run make setup); the words and the silence "
                        "judge the end of a turn", self.settings.model_path)
            return None
        try:
            return EndJudge.load(path)
        except (RuntimeError, ValueError, OSError) as exc:
            log.warning("turn model could not be loaded: %s: %s", type(exc).__name__, exc)
            return None

    def drain(self) -> int:
        """The process is about to stop: take no new sessions and tell every connected
        client to reconnect (each connection that can: ``shutdown_notice()``); how many."""
        self.draining = True
        told = 0
        for entry in self.pool.entries():
            notice = getattr(entry.owner, "shutdown_notice", None)
            if callable(notice):
                notice()
                told += 1
        if self.ownership is not None:  # (parked in Redis: any process may take them now)
            self.ownership.release_all()
        log.info("draining: %d client(s) told to reconnect", told)
        return told

    def _cue_audio(self) -> tuple[bytes, int] | None:
        """The thinking cue, synthesized once so it can play the instant it is needed."""
        if not self.settings.thinking_cue_ms:
            return None
        try:
            return self.catalog.cue_audio(self.providers.tts, self.settings.thinking_cue_text)
        except ProviderError as exc:
            log.warning("no thinking cue: %s", exc)
            return None

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self.ticker.stop()
        self.pool.close_all()
        self.workers.shutdown()
        if self.store is not None:
            self.store.close()
        if self.history is not None:
            self.history.close()
        if self.parking_writer is not None:
            self.parking_writer.close()
        if self.ownership is not None:
            self.ownership.close()
        if self.registry is not None:
            self.registry.close()
        if self.shared_limits is not None:
            self.shared_limits.close()
        if self._redis is not None:
            self._redis.close()
        self.catalog.close()
        self.providers.close()
        self.runner.stop()
