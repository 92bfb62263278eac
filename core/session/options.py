"""A session's own settings and the providers they chose, and how a change applies.

A ``settings`` request is prepared outside the session's lock (new providers may load
an embedded model or try a voice: seconds), then applied under it all at once; on any
problem nothing changes. The providers' states are watched here too, so the person is
told when one goes out of use, is replaced by its fallback, or comes back.

The providers a session holds are taken from the catalog and given back when it
switches or closes, so a provider others still use is never closed under them; new
providers may be asked for only a few times a minute (each may be a new HTTP client).
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.audio.pcm import INPUT_SAMPLE_RATE
from core.conversation.config import EngineConfig
from core.conversation.events import ErrorNotice
from core.errors import ClientError
from core.providers.base import ProviderError
from core.providers.catalog import ProviderCatalog
from core.providers.choice import LANGUAGES
from core.providers.guards.recovery import ProviderWatch, status_message
from core.providers.registry import Providers
from core.providers.speech.base import SpeechProvider
from core.providers.speech.provider import INSTRUCTIONS, speech_provider
from core.session.events import ProviderStatusChanged, Ready, SettingsApplied
from core.session.session_settings import SessionSettings, updated
from core.settings import Settings

PROVIDER_SWITCHES_PER_MINUTE = 6


@dataclass(frozen=True)
class SettingsChange:
    own: SessionSettings
    providers: Providers
    cue: tuple[bytes, int] | None
    taken: bool = False  # ``providers`` were taken from the catalog for this change


class SessionOptions:
    def __init__(self, settings: Settings, catalog: ProviderCatalog, base_config: EngineConfig,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._catalog = catalog
        self._base_config = base_config
        self._clock = clock
        self.own = SessionSettings.defaults(settings)
        self.providers = catalog.defaults
        self.speech: SpeechProvider | None = speech_provider(self.own.speech, settings)
        self._watch = ProviderWatch(self.providers)
        self._switches: deque[float] = deque(maxlen=PROVIDER_SWITCHES_PER_MINUTE)

    @property
    def changed(self) -> bool:
        """The person changed something: worth keeping for a resume."""
        return self.own != SessionSettings.defaults(self._settings)

    def prepare(self, data: dict[str, Any], cue: tuple[bytes, int] | None) -> SettingsChange:
        """Check a ``settings`` request and build what it needs; reads no session state
        but ``own`` and ``providers``. Raises ``ClientError`` or ``ProviderError``."""
        current, providers = self.own, self.providers
        own = updated(current, data, self._settings)
        if own.providers == current.providers:
            if own.speech != current.speech:
                self._count_switch()  # (each opens a connection to an API)
            return SettingsChange(own, providers, cue)
        self._count_switch()
        providers = self._catalog.providers_for(own.providers)
        change = SettingsChange(own, providers, cue, taken=True)
        if self._settings.thinking_cue_ms:
            try:
                cue = self._catalog.cue_audio(providers.tts, self._settings.thinking_cue_text)
            except BaseException:
                self.discard(change)
                raise
        return dataclasses.replace(change, cue=cue)

    def try_prepare(self, data: dict[str, Any],
                    cue: tuple[bytes, int] | None) -> SettingsChange | ErrorNotice:
        """``prepare``, with a refusal as the notice the person is sent."""
        try:
            return self.prepare(data, cue)
        except ClientError as exc:
            return ErrorNotice(exc.code, str(exc))
        except ProviderError as exc:
            return ErrorNotice("provider_failed", f"{exc}. Settings not changed.",
                               retryable=exc.retryable, provider=exc.provider)

    def _count_switch(self) -> None:
        now = self._clock()
        if len(self._switches) == self._switches.maxlen and now - self._switches[0] < 60.0:
            raise ClientError("rate_limited", f"providers can be changed {PROVIDER_SWITCHES_PER_MINUTE} "
                                              "times a minute; wait a little and try again")
        self._switches.append(now)

    def discard(self, change: SettingsChange) -> None:
        """A prepared change that will not be applied (the session closed meanwhile)."""
        if change.taken:
            self._catalog.release(*change.providers)

    def close(self) -> None:
        """Give the session's providers back; it uses the server's defaults from now on."""
        old, self.providers = self.providers, self._catalog.defaults
        self._catalog.release(*old)

    def apply(self, change: SettingsChange) -> tuple[EngineConfig, SettingsApplied]:
        """Make ``change`` this session's; the engine's new config and the answer."""
        old = self.providers
        if change.own.speech != self.own.speech:
            self.speech = speech_provider(change.own.speech, self._settings)
        self.own, self.providers = change.own, change.providers
        if change.taken:
            self._catalog.release(*old)
        self._watch = ProviderWatch(change.providers)
        config = dataclasses.replace(change.own.engine_config(self._base_config), cue_audio=change.cue)
        applied = SettingsApplied(change.own.as_event(), self.names(),
                                  change.providers.tts.sample_rate)
        return config, applied

    def names(self) -> dict[str, str]:
        """The providers in use, by role (``speech`` when a speech-to-speech API answers)."""
        names = self.providers.names()
        return {**names, "speech": self.speech.name} if self.speech is not None else names

    def instructions(self) -> str:
        """What a speech-to-speech API is told it is."""
        return INSTRUCTIONS.format(language=LANGUAGES[self.own.providers.language])

    def ready(self, session_id: str, resume_token: str, resumed: bool,
              history: Sequence[Mapping[str, object]] | None) -> Ready:
        """The session's first event on a socket: how to talk to it, and its settings."""
        return Ready(session_id=session_id, resume_token=resume_token,
                     resume_window_s=self._settings.resume_window_s, input_sample_rate=INPUT_SAMPLE_RATE,
                     output_sample_rate=self.providers.tts.sample_rate, settings=self.own.as_event(),
                     providers=self.names(), resumed=resumed, history=history)

    def provider_changes(self) -> list[ProviderStatusChanged]:
        """Providers that went out of use, were replaced by their fallback, or came back."""
        return [ProviderStatusChanged(
            role=status.role, primary=status.primary, active=status.active,
            state="fallback" if status.using_fallback else status.circuit,
            message=status_message(status)) for status in self._watch.changes()]
