"""What the process shares with every session."""

from __future__ import annotations

from dataclasses import dataclass

from core.conversation.config import EngineConfig
from core.metrics import Metrics
from core.providers.catalog import ProviderCatalog
from core.session.model_workers import ModelWorkers
from core.session.turn_budget import ReplyBudget
from core.store.conversations import ConversationStore


@dataclass(frozen=True)
class SessionServices:
    """What the process shares with every session."""

    workers: ModelWorkers
    catalog: ProviderCatalog
    metrics: Metrics
    engine_config: EngineConfig
    store: ConversationStore | None = None
    channel: str = "browser"  # how the person reaches the assistant: "browser" or "phone"
    reply_budget: ReplyBudget | None = None  # this session's reply tokens (None: no limit)
