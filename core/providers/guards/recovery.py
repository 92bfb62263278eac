"""The error-recovery manager: every provider a session uses is a guarded one.

Policy (docs/reliability.md): each call gets a deadline for its first output and for
every next piece; retryable failures are tried again with a short backoff (tenacity);
``circuit_failures`` failed calls in a row take the provider out of use. Meanwhile a
remote provider's role is played by the embedded model (when
``fallback_to_embedded``), and the provider is probed in the background until it
answers again. Sessions watch ``status()`` and tell the person in plain words.
"""

from __future__ import annotations

from typing import get_args

from core.providers.base import LLMProvider, Providers, STTProvider, TTSProvider
from core.providers.guards.guard import ProviderStatus, RecoveryPolicy
from core.providers.guards.guarded import GuardedLLM, GuardedSTT, GuardedTTS
from core.settings import Settings

Guarded = GuardedSTT | GuardedLLM | GuardedTTS
_GUARDED_TYPES = get_args(Guarded)  # (a tuple: isinstance on it is the cheaper check per tick)

ROLE_WORDS = {"stt": "speech recognition", "llm": "answering service", "tts": "voice"}


def recovery_policy(s: Settings, serial: bool = False) -> RecoveryPolicy:
    """``serial``: the provider runs one call at a time (an embedded model): calls wait in
    line for its one thread, and the deadline counts from when a call starts."""
    return RecoveryPolicy(
        attempt_timeout_s=s.provider_attempt_timeout_s,
        attempts=s.provider_attempts,
        failure_threshold=s.circuit_failures,
        probe_interval_s=s.circuit_probe_s,
        call_workers=1 if serial else max(4, s.turn_workers),
        queue_timeout_s=s.provider_queue_timeout_s,
    )


def guard_stt(stt: STTProvider, s: Settings, fallback: STTProvider | None = None,
              serial: bool = False) -> STTProvider:
    return stt if isinstance(stt, GuardedSTT) else GuardedSTT(stt, recovery_policy(s, serial), fallback)


def guard_llm(llm: LLMProvider, s: Settings, fallback: LLMProvider | None = None,
              serial: bool = False) -> LLMProvider:
    return llm if isinstance(llm, GuardedLLM) else GuardedLLM(llm, recovery_policy(s, serial), fallback)


def guard_tts(tts: TTSProvider, s: Settings, fallback: TTSProvider | None = None,
              serial: bool = False) -> TTSProvider:
    return tts if isinstance(tts, GuardedTTS) else GuardedTTS(tts, recovery_policy(s, serial), fallback)


def guarded(providers: Providers) -> list[Guarded]:
    return [p for p in (providers.stt, providers.llm, providers.tts) if isinstance(p, _GUARDED_TYPES)]


def statuses(providers: Providers) -> list[ProviderStatus]:
    return [p.status() for p in guarded(providers)]


class ProviderWatch:
    """What changed in a session's providers since it last looked (polled on the ticker)."""

    def __init__(self, providers: Providers) -> None:
        self._guarded = guarded(providers)  # (a session's providers are fixed for its watch)
        self._seen = {st.role: st.version for st in self._statuses()}

    def _statuses(self) -> list[ProviderStatus]:
        return [p.status() for p in self._guarded]

    def changes(self) -> list[ProviderStatus]:
        # Polled for every session on every tick and audio frame: compare the versions
        # alone, and build the statuses (names, states) only when one of them moved.
        seen = self._seen
        if all(seen.get(p.role) == p.circuit.latest_version for p in self._guarded):
            return []
        changed = [st for st in self._statuses() if self._seen.get(st.role) != st.version]
        for status in changed:
            self._seen[status.role] = status.version
        return changed


def status_message(status: ProviderStatus) -> str:
    """What the person is told when a provider changes state."""
    what = ROLE_WORDS[status.role]
    if status.circuit == "closed":
        return f"The {what} ({status.primary}) works again."
    if status.using_fallback:
        return f"The {what} ({status.primary}) is not answering; using {status.active} for now."
    return f"The {what} ({status.primary}) is not answering; trying again in a moment."
