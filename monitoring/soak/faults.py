"""Provider faults injected into conversations with the real embedded models.

Every provider (speech recognition, replies, voice) in every fault mode (raising,
hanging past its deadline, returning garbage), ``repeats`` times each.
"""

from __future__ import annotations

from typing import Any

from core.providers.base import Providers
from core.providers.registry import build_providers
from core.providers.remote.async_runner import AsyncRunner
from core.settings import Settings
from monitoring.clients.voice_client import VoiceClient
from monitoring.metrics.monitor import percentile
from monitoring.servers.inprocess_server import InProcessServer
from monitoring.soak.fault_drill import DrillResult, drill
from monitoring.soak.fault_injection import FaultyLLM, FaultySTT, FaultyTTS

ROLES = ("stt", "llm", "tts")
MODES = ("raise", "hang", "garbage")


def run_faults(repeats: int = 3) -> dict[str, Any]:
    runner = AsyncRunner()
    real = build_providers(Settings(), runner)
    real.warm_up()
    faulty = Providers(FaultySTT(real.stt), FaultyLLM(real.llm), FaultyTTS(real.tts))
    settings = Settings().replace(greeting_after_ms=0, thinking_cue_ms=0, db_path="")
    results: list[DrillResult] = []
    try:
        with InProcessServer(settings, faulty) as server:
            for role in ROLES:
                for mode in MODES:
                    for _ in range(repeats):
                        client = VoiceClient(server.ws_url)
                        try:
                            client.start()
                            results.append(drill(client, getattr(faulty, role), role, mode))  # type: ignore[arg-type]
                        finally:
                            client.close()
    finally:
        runner.stop()
    times = [r.recovery_s for r in results if r.recovery_s is not None]
    by_kind = {}
    for role in ROLES:
        for mode in MODES:
            mine = [r for r in results if r.role == role and r.mode == mode]
            kind_times = [r.recovery_s for r in mine if r.recovery_s is not None]
            by_kind[f"{role}/{mode}"] = {
                "injected": len(mine), "fired": sum(r.fired for r in mine),
                "recovered": sum(r.recovered for r in mine),
                "turns_failed": sum(r.failed_turns for r in mine),
                "told_when_failed": all(r.told for r in mine if r.failed_turns),
                "recovery_p95_s": _round(percentile(kind_times, 95)),
            }
    return {
        "injected": len(results),
        "fired": sum(r.fired for r in results),
        "recovered": sum(r.recovered for r in results),
        "recovery_p50_s": _round(percentile(times, 50)),
        "recovery_p95_s": _round(percentile(times, 95)),
        "recovery_max_s": _round(max(times, default=None)),
        "by_kind": by_kind,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
