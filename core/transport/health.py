"""``/healthz`` (the process answers) and ``/readyz`` (it can take a conversation now),
for a balancer's or an orchestrator's health checks. Neither needs a token, so neither
says more than which check failed."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, jsonify

from core.providers.guards.recovery import statuses
from core.runtime import VoiceRuntime

STORE_ERROR_GRACE_S = 60.0  # a store write failed this recently: not ready


def readiness(runtime: VoiceRuntime) -> dict[str, bool]:
    """Each check by name: True when it passes."""
    store = runtime.store
    store_ok = store is None or store.healthy(time.time() - STORE_ERROR_GRACE_S)
    # A provider out of use is fine while its fallback answers for it.
    providers_ok = all(s.circuit != "open" or s.using_fallback for s in statuses(runtime.providers))
    checks = {"models_loaded": runtime.warmed, "store_writable": store_ok,
              "providers_answering": providers_ok, "accepting_sessions": not runtime.draining}
    if runtime.parking is not None:
        checks["shared_state_reachable"] = runtime.parking.reachable()
    return checks


def install_health_routes(app: Flask, runtime: VoiceRuntime) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")  # (session counts are for admins: /metrics)

    @app.get("/readyz")
    def readyz() -> Any:
        checks = readiness(runtime)
        ready = all(checks.values())
        return jsonify(ready=ready, checks=checks), 200 if ready else 503
