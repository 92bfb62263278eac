"""Endpoints for admins, behind ``VOICECHAT_ADMIN_TOKEN``: ``/metrics`` (the Prometheus
text format) and ``/metrics.json`` (the same figures, with the time series and recent
turns the admin page at ``/admin`` draws; the page calls ``metrics()`` directly).

The token comes as ``Authorization: Bearer <token>`` and is compared in constant time.
With no token configured the endpoints are closed (403), never open: a server started
without thinking about it does not publish its sessions to the network.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from core.providers.guards.recovery import statuses
from core.runtime import VoiceRuntime
from core.store.conversations import StoreError
from monitoring.metrics.monitor import monitor_of
from monitoring.metrics.prometheus import exposition, registry_for

log = logging.getLogger(__name__)

RECENT_TURNS = 50  # rows of the admin page's table
RECENT_CONVERSATIONS = 20


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison; nothing matches when no token is configured."""
    if not token or not given:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


def token_accepted(header: str | None, token: str) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    return token_matches(header.removeprefix("Bearer "), token)


def metrics(runtime: VoiceRuntime) -> dict[str, Any]:
    """Everything the admin page shows (and /metrics.json returns)."""
    monitor = monitor_of(runtime)
    snapshot = monitor.snapshot()
    snapshot["series"] = monitor.series()
    snapshot["recent_turns"] = monitor.recent_turns(RECENT_TURNS)
    snapshot["pool"] = dataclasses.asdict(runtime.pool.stats())
    snapshot["providers"] = [dataclasses.asdict(s) for s in statuses(runtime.providers)]
    store = runtime.store
    snapshot["store"] = None if store is None else {"write_errors": store.write_errors}
    snapshot["conversations"] = _conversations(runtime)
    return snapshot


def _conversations(runtime: VoiceRuntime) -> list[dict[str, Any]]:
    if runtime.store is None:
        return []
    try:
        return [dataclasses.asdict(c) for c in runtime.store.recent_conversations(RECENT_CONVERSATIONS)]
    except StoreError as exc:
        runtime.metrics.count("store_read_errors")
        log.warning("admin: %s", exc)
        return []


def install_admin_routes(app: Flask, runtime: VoiceRuntime) -> None:
    monitor_of(runtime)  # (fails at start-up, not at the first scrape, without a monitor)
    token = runtime.settings.admin_token
    registry = registry_for(runtime)

    def refusal() -> tuple[Response, int] | None:
        """Why this request may not see the metrics, or None when it may."""
        if not token:
            runtime.metrics.count("refused_admin")
            return jsonify(error="admin_disabled",
                           message="Set VOICECHAT_ADMIN_TOKEN to open the metrics."), 403
        if not token_accepted(request.headers.get("Authorization"), token):
            runtime.metrics.count("refused_admin")
            response = jsonify(error="unauthorized", message="A valid admin token is needed.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="voicechat-admin"'
            return response, 401
        return None

    @app.get("/metrics")
    def prometheus_endpoint() -> Response | tuple[Response, int]:
        refused = refusal()
        if refused is not None:
            return refused
        response = Response(exposition(registry), content_type=CONTENT_TYPE_LATEST)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/metrics.json")
    def json_endpoint() -> Response | tuple[Response, int]:
        refused = refusal()
        if refused is not None:
            return refused
        response = jsonify(metrics(runtime))
        response.headers["Cache-Control"] = "no-store"
        return response
