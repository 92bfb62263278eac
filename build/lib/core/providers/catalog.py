"""Provider instances for the choices sessions make, built once and shared.

The server's own providers serve every session that keeps the defaults. An embedded
model another session asks for is loaded once for the process; remote providers (cheap
HTTP clients) are keyed by their whole configuration, so sessions with the same choice
share one connection pool. Each session holding a remote provider counts as one user
(``providers_for`` takes, ``release`` gives back): a provider in use is never closed
because others asked for new ones; only unused ones wait in a small LRU for a return.
Every provider handed out is guarded (core/providers/guards/recovery.py); a remote one
falls back to the embedded model of its role while it is out of use (loaded once, when
first needed). Each TTS voice's thinking cue is
synthesized once, when the voice is first chosen; that call doubles as a check that the
voice works before a session switches to it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from core.providers.base import LLMProvider, ProviderError, Providers, STTProvider, TTSProvider
from core.providers.choice import LANGUAGES, ProviderChoice
from core.providers.guards.guarded import GuardedTTS
from core.providers.guards.recovery import guard_llm, guard_stt, guard_tts
from core.providers.registry import build_llm, build_local_tts, build_stt
from core.providers.remote.async_runner import AsyncRunner
from core.settings import Settings

log = logging.getLogger(__name__)

MAX_IDLE_REMOTE_PROVIDERS = 32
CueAudio = tuple[bytes, int] | None

Provider = STTProvider | LLMProvider | TTSProvider


@dataclass
class _Shared:
    provider: Provider
    users: int = 0


class ProviderCatalog:
    def __init__(self, settings: Settings, runner: AsyncRunner | None, base: Providers) -> None:
        """``base``: the server's own providers, unguarded (the catalog guards them)."""
        self._settings = settings
        self._runner = runner
        self._base = base
        self._default_choice = ProviderChoice.defaults(settings)
        # The server's settings with the roles embedded: what the registry builds them from.
        self._local_settings = settings.replace(stt_provider="local", llm_provider="local")
        self._lock = threading.RLock()
        self._local: dict[str, Provider] = {}  # embedded models loaded besides the server's own
        self._guarded_local: dict[str, Provider] = {}
        self._remote: dict[Hashable, _Shared] = {}
        self._idle: OrderedDict[Hashable, None] = OrderedDict()  # remote, no user, oldest first
        self._key_of: dict[int, Hashable] = {}  # id(remote provider) -> its key
        self._cues: dict[int, CueAudio] = {}
        self.defaults = Providers(
            guard_stt(base.stt, settings, self._default_fallback("stt"), self._is_local_default("stt")),
            guard_llm(base.llm, settings, self._default_fallback("llm"), self._is_local_default("llm")),
            guard_tts(base.tts, settings, self._default_fallback("tts"), self._is_local_default("tts")),
        )
        for role in ("stt", "llm", "tts"):
            if self._is_local_default(role):
                self._guarded_local[role] = getattr(self.defaults, role)

    # ----- choosing -------------------------------------------------------------------------
    def providers_for(self, choice: ProviderChoice) -> Providers:
        """The providers of ``choice``, taken for one user until ``release``; may load an
        embedded model (seconds) the first time.

        Raises ``ProviderError`` when one cannot be built (then nothing is taken).
        """
        taken: list[Provider] = []
        try:
            for build in (self._stt, self._llm, self._tts):
                taken.append(build(choice))
        except BaseException:
            self.release(*taken)
            raise
        stt, llm, tts = taken
        return Providers(stt, llm, tts)  # type: ignore[arg-type]

    def release(self, *providers: Provider) -> None:
        """One user fewer for each remote provider in ``providers`` (others are ignored);
        one nobody uses waits among the idle ones, and the oldest idle ones are closed."""
        closing: list[Provider] = []
        with self._lock:
            for provider in providers:
                key = self._key_of.get(id(provider))
                if key is None:
                    continue
                shared = self._remote[key]
                shared.users -= 1
                if shared.users == 0:
                    self._idle[key] = None
            while len(self._idle) > MAX_IDLE_REMOTE_PROVIDERS:
                key, _ = self._idle.popitem(last=False)
                closing.append(self._forget_remote(key))
        for provider in closing:
            provider.close()

    def remote_in_use(self) -> int:
        """Remote providers some session holds (for tests and the admin)."""
        with self._lock:
            return sum(1 for shared in self._remote.values() if shared.users)

    def _forget_remote(self, key: Hashable) -> Provider:
        provider = self._remote.pop(key).provider
        self._key_of.pop(id(provider), None)
        self._cues.pop(id(provider), None)
        return provider

    def _same_as_default(self, choice: ProviderChoice, *fields: str) -> bool:
        default = self._default_choice
        return all(getattr(choice, f) == getattr(default, f) for f in fields) and (
            not choice.openai_api_key and choice.language == default.language)

    def _stt(self, c: ProviderChoice) -> STTProvider:
        if self._same_as_default(c, "stt_provider", "openai_base_url", "openai_stt_model"):
            return self.defaults.stt
        if c.stt_provider == "local":
            return self._guarded_embedded("stt")
        from core.providers.remote.openai_stt import OpenAISTT

        api_key = c.api_key(self._settings)
        key = ("stt", c.base_url(self._settings), api_key, c.openai_stt_model, c.language)
        return self._shared_remote(key, lambda: guard_stt(OpenAISTT(
            c.base_url(self._settings), api_key, c.openai_stt_model,
            self._settings.provider_timeout_s, language=c.language),
            self._settings, self._fallback("stt", c.language)))

    def _llm(self, c: ProviderChoice) -> LLMProvider:
        if self._same_as_default(c, "llm_provider", "openai_base_url", "openai_llm_model"):
            return self.defaults.llm
        if c.llm_provider == "local":
            return self._guarded_embedded("llm")
        from core.providers.remote.openai_llm import OpenAILLM

        api_key = c.api_key(self._settings)
        key = ("llm", c.base_url(self._settings), api_key, c.openai_llm_model, c.language)
        return self._shared_remote(key, lambda: guard_llm(OpenAILLM(
            c.base_url(self._settings), api_key, c.openai_llm_model,
            self._settings.provider_timeout_s, language=LANGUAGES[c.language]),
            self._settings, self._fallback("llm", c.language)))

    def _tts(self, c: ProviderChoice) -> TTSProvider:
        if self._same_as_default(c, "tts_provider", "openai_base_url", "openai_tts_model",
                                 "openai_tts_voice") and (
                c.resolved_voice() == self._default_choice.resolved_voice()):
            return self.defaults.tts
        if c.tts_provider == "local":
            return self._guarded_embedded("tts")
        if c.tts_provider == "edge":
            from core.providers.remote.edge import EdgeTTS

            if self._runner is None:
                raise ProviderError("edge-tts", "not available in this server", retryable=False)
            runner = self._runner
            return self._shared_remote(("edge", c.resolved_voice()), lambda: guard_tts(EdgeTTS(
                c.resolved_voice(), runner, self._settings.provider_timeout_s),
                self._settings, self._fallback("tts", c.language)))
        from core.providers.remote.openai_tts import OpenAITTS

        api_key = c.api_key(self._settings)
        key = ("tts", c.base_url(self._settings), api_key, c.openai_tts_model, c.openai_tts_voice, c.language)
        return self._shared_remote(key, lambda: guard_tts(OpenAITTS(
            c.base_url(self._settings), api_key, c.openai_tts_model, c.openai_tts_voice,
            self._settings.provider_timeout_s), self._settings, self._fallback("tts", c.language)))

    # ----- embedded models, loaded once -----------------------------------------------------
    def _is_local_default(self, role: str) -> bool:
        return getattr(self._settings, f"{role}_provider") == "local"

    def _embedded(self, role: str) -> Provider:
        """The embedded model of ``role``, unguarded (the fallback of remote providers)."""
        if self._is_local_default(role):
            return getattr(self._base, role)  # type: ignore[no-any-return]
        with self._lock:
            if role not in self._local:
                log.info("loading the embedded %s model", role)
                build: dict[str, Callable[[], Provider]] = {
                    "stt": lambda: build_stt(self._local_settings),
                    "llm": lambda: build_llm(self._local_settings),
                    "tts": build_local_tts,
                }
                provider = build[role]()
                provider.warm_up()
                self._local[role] = provider
            return self._local[role]

    def _fallback(self, role: str, language: str = "en") -> Provider | None:
        """What stands in for a remote provider of ``role`` while it is out of use: the
        embedded model, which speaks English only (another language gets no fallback:
        a failed turn says so rather than answer in the wrong language)."""
        if not self._settings.fallback_to_embedded or language != "en":
            return None
        return self._embedded(role)

    def _default_fallback(self, role: str) -> Provider | None:
        # An embedded model has no fallback: it is the last resort. A simulated provider
        # has none either: a load test measures the server, not the embedded models.
        if self._is_local_default(role) or getattr(self._settings, f"{role}_provider") == "simulated":
            return None
        return self._fallback(role)

    def _guarded_embedded(self, role: str) -> Provider:
        with self._lock:
            if role not in self._guarded_local:
                guard = {"stt": guard_stt, "llm": guard_llm, "tts": guard_tts}[role]
                self._guarded_local[role] = guard(self._embedded(role), self._settings,  # type: ignore[operator]
                                                  serial=True)
            return self._guarded_local[role]

    # ----- remote clients, counted by their users -------------------------------------------
    def _shared_remote(self, key: Hashable, build: Callable[[], Provider]) -> Provider:
        with self._lock:
            shared = self._remote.get(key)
            if shared is None:
                shared = self._remote[key] = _Shared(build())
                self._key_of[id(shared.provider)] = key
            shared.users += 1
            self._idle.pop(key, None)
            return shared.provider

    # ----- the thinking cue -----------------------------------------------------------------
    def cue_audio(self, tts: TTSProvider, text: str) -> CueAudio:
        """The cue in ``tts``'s voice, synthesized on first use (raises ``ProviderError``)."""
        if not text.strip():
            return None
        with self._lock:
            if id(tts) in self._cues:
                return self._cues[id(tts)]
        # The voice itself, not its fallback: this doubles as the check that it works.
        voice = tts.primary if isinstance(tts, GuardedTTS) else tts
        pcm = b"".join(voice.synthesize(text))
        cue = (pcm, tts.sample_rate) if pcm else None
        with self._lock:
            self._cues[id(tts)] = cue
        return cue

    def close(self) -> None:
        """Close what the catalog made; ``defaults`` are closed by the runtime."""
        with self._lock:
            defaults = {id(p) for p in (self.defaults.stt, self.defaults.llm, self.defaults.tts)}
            guarded = [p for p in self._guarded_local.values() if id(p) not in defaults]
            extra = [*(shared.provider for shared in self._remote.values()), *guarded,
                     *self._local.values()]
            self._local.clear()
            self._guarded_local.clear()
            self._remote.clear()
            self._idle.clear()
            self._key_of.clear()
            self._cues.clear()
        for provider in extra:
            provider.close()
