"""A session's own settings and the providers they chose, and how a change applies.

A ``settings`` request is prepared outside the session's lock (new providers may load
an embedded model or try a voice: seconds), then applied under it all at once; on any
problem nothing changes. The providers' states are watched here too, so the person is
told when one goes out of use, is replaced by its fallback, or comes back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.conversation.config import EngineConfig
from core.providers.catalog import ProviderCatalog
from core.providers.guards.recovery import ProviderWatch, status_message
from core.providers.registry import Providers
from core.session.events import ProviderStatusChanged, SettingsApplied
from core.session.session_settings import SessionSettings, updated
from core.settings import Settings


@dataclass(frozen=True)
class SettingsChange:
    own: SessionSettings
    providers: Providers
    cue: tuple[bytes, int] | None


class SessionOptions:
    def __init__(self, settings: Settings, catalog: ProviderCatalog, base_config: EngineConfig) -> None:
        self._settings = settings
        self._catalog = catalog
        self._base_config = base_config
        self.own = SessionSettings.defaults(settings)
        self.providers = catalog.defaults
        self._watch = ProviderWatch(self.providers)

    @property
    def changed(self) -> bool:
        """The person changed something: worth keeping for a resume."""
        return self.own != SessionSettings.defaults(self._settings)

    def prepare(self, data: dict[str, Any], cue: tuple[bytes, int] | None) -> SettingsChange:
        """Check a ``settings`` request and build what it needs; reads no session state
        but ``own`` and ``providers``. Raises ``ClientError`` or ``ProviderError``."""
        current, providers = self.own, self.providers
        own = updated(current, data, self._settings)
        if own.providers != current.providers:
            providers = self._catalog.providers_for(own.providers)
            if self._settings.thinking_cue_ms:
                cue = self._catalog.cue_audio(providers.tts, self._settings.thinking_cue_text)
        return SettingsChange(own, providers, cue)

    def apply(self, change: SettingsChange) -> tuple[EngineConfig, SettingsApplied]:
        """Make ``change`` this session's; the engine's new config and the answer."""
        self.own, self.providers = change.own, change.providers
        self._watch = ProviderWatch(change.providers)
        config = dataclasses.replace(change.own.engine_config(self._base_config), cue_audio=change.cue)
        applied = SettingsApplied(change.own.as_event(), change.providers.names(),
                                  change.providers.tts.sample_rate)
        return config, applied

    def provider_changes(self) -> list[ProviderStatusChanged]:
        """Providers that went out of use, were replaced by their fallback, or came back."""
        return [ProviderStatusChanged(
            role=status.role, primary=status.primary, active=status.active,
            state="fallback" if status.using_fallback else status.circuit,
            message=status_message(status)) for status in self._watch.changes()]
