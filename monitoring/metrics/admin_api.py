"""Endpoints for admins, behind ``VOICECHAT_ADMIN_TOKEN``: ``/metrics`` (the Prometheus
text format) and ``/metrics.json`` (the same figures, with the time series and recent
turns the admin page at ``/admin`` draws; the page calls ``metrics()`` directly), and
``GET /api/conversations/<id>`` (a stored conversation, JSON or ``?format=text``) and
``DELETE /api/conversations/<id>`` (a conversation deleted on request).

The token comes as ``Authorization: Bearer <token>`` and is compared in constant time;
an address that keeps sending wrong ones is made to wait longer and longer (429).
With no token configured the endpoints are closed (403), never open: a server started
without thinking about it does not publish its sessions to the network.
"""

from __future__ import annotations

import dataclasses
import enum
import hmac
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from core.metrics import Metrics
from core.providers.guards.recovery import statuses
from core.runtime import VoiceRuntime
from core.store.conversations import StoreError, StoreFull, Written
from core.transport.backoff import FailureBackoff
from core.transport.client_address import client_address
from monitoring.metrics.cluster_view import cluster
from monitoring.metrics.monitor import monitor_of
from monitoring.metrics.prometheus import exposition, registry_for
from monitoring.metrics.transcripts import NoStore, as_text, turns

log = logging.getLogger(__name__)

RECENT_TURNS = 50  # rows of the admin page's table
RECENT_CONVERSATIONS = 20
GATE_KEY = "VOICECHAT_ADMIN_GATE"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
DELETE_WAIT_S = 5.0


def token_matches(given: object, token: str) -> bool:
    """Constant-time comparison; nothing matches when no token is configured."""
    if not token or not given or not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), token.encode())


class Admission(enum.Enum):
    OPEN = "open"
    DISABLED = "disabled"  # no token configured
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong tokens from this address: wait


@dataclass
class AdminGate:
    """The admin token check of the endpoints and the admin page, with a backoff per
    address after wrong tokens (``core.transport.backoff``)."""

    token: str
    metrics: Metrics
    backoff: FailureBackoff = field(default_factory=FailureBackoff)

    def admit(self, given: object, address: str) -> tuple[Admission, float]:
        """Whether ``given`` opens the metrics for ``address``, and seconds to wait if locked."""
        if not self.token:
            return Admission.DISABLED, 0.0
        wait_s = self.backoff.retry_after(address)
        if wait_s > 0:
            self.metrics.count("refused_admin_locked")
            return Admission.LOCKED, wait_s
        if token_matches(given, self.token):
            self.backoff.succeeded(address)
            return Admission.OPEN, 0.0
        if given:  # (an empty prompt on the page is not a refusal)
            self.backoff.failed(address)
            self.metrics.count("refused_admin")
        return Admission.WRONG, 0.0


def admin_gate(app: Flask) -> AdminGate:
    return app.config[GATE_KEY]


def request_address() -> str:
    """This request's address group, as every admin check counts it (a trusted proxy's
    clients apart), for the backoff after wrong tokens."""
    return client_address(request.environ)


def bearer(header: str | None) -> str:
    return header.removeprefix("Bearer ") if header and header.startswith("Bearer ") else ""


def metrics(runtime: VoiceRuntime) -> dict[str, Any]:
    """Everything the admin page shows (and /metrics.json returns)."""
    monitor = monitor_of(runtime)
    snapshot = monitor.snapshot()
    snapshot["series"] = monitor.series()
    snapshot["recent_turns"] = monitor.recent_turns(RECENT_TURNS)
    snapshot["turn_taking"] = monitor.turn_taking_view()
    snapshot["pool"] = dataclasses.asdict(runtime.pool.stats())
    snapshot["providers"] = [dataclasses.asdict(s) for s in statuses(runtime.providers)]
    snapshot["speech"] = {name.removeprefix("speech:"): n for name, n in snapshot["counters"].items()
                          if name.startswith("speech:")}
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


def forget_conversation(runtime: VoiceRuntime, session_id: str) -> tuple[Response, int]:
    store = runtime.store
    live = runtime.pool.live(session_id)
    if live is not None:
        live.forget()  # (its own deletion goes through the store's queue, in order)
    parked = runtime.pool.unpark(session_id)
    if parked is not None:
        parked.close()
    if store is None:
        return jsonify(deleted=session_id, stored=False), 200
    try:
        ticket = store.delete_conversation(session_id)
    except StoreFull:
        runtime.metrics.count("store_full")
        return jsonify(error="store_busy", message="The store is too far behind; try again."), 503
    outcome = store.outcome(ticket, DELETE_WAIT_S)
    if outcome is Written.FAILED:
        return jsonify(error="store_failed", message="The store could not write the deletion."), 500
    if outcome is Written.PENDING:
        return jsonify(error="store_slow", message="The deletion is queued but not written yet."), 504
    log.info("admin: conversation %s deleted", session_id[:8])
    return jsonify(deleted=session_id, stored=True), 200


def install_admin_routes(app: Flask, runtime: VoiceRuntime) -> None:
    monitor_of(runtime)  # (fails at start-up, not at the first scrape, without a monitor)
    gate = app.config[GATE_KEY] = AdminGate(runtime.settings.admin_token, runtime.metrics)
    registry = registry_for(runtime)

    def refusal() -> tuple[Response, int] | None:
        """Why this request may not see the metrics, or None when it may."""
        given = bearer(request.headers.get("Authorization"))
        admission, wait_s = gate.admit(given, request_address())
        if admission is Admission.OPEN:
            return None
        if admission is Admission.WRONG and not given:
            runtime.metrics.count("refused_admin")
        if admission is Admission.DISABLED:
            runtime.metrics.count("refused_admin")
            return jsonify(error="admin_disabled",
                           message="Set VOICECHAT_ADMIN_TOKEN to open the metrics."), 403
        if admission is Admission.LOCKED:
            response = jsonify(error="too_many_attempts",
                               message=f"Too many wrong tokens: try again in {math.ceil(wait_s)} s.")
            response.headers["Retry-After"] = str(math.ceil(wait_s))
            return response, 429
        response = jsonify(error="unauthorized", message="A valid admin token is needed.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="voicechat-admin"'
        return response, 401

    @app.get("/metrics")
    def prometheus_endpoint() -> Response | tuple[Response, int]:
        refused = refusal()
        if refused is not None:
            return refused
        response = Response(exposition(registry), content_type=CONTENT_TYPE_LATEST)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.delete("/api/conversations/<session_id>")
    def delete_conversation(session_id: str) -> Response | tuple[Response, int]:
        """An admin deletes a conversation: from the store, and from the server's memory
        (a live session forgets it and tells its page; a parked one is closed)."""
        refused = refusal()
        if refused is not None:
            return refused
        if not SESSION_ID.fullmatch(session_id):
            return jsonify(error="invalid_session_id", message="Not a conversation id."), 400
        return forget_conversation(runtime, session_id)

    @app.get("/api/conversations/<session_id>")
    def read_conversation(session_id: str) -> Response | tuple[Response, int]:
        """A stored conversation's turns (``?q=`` words to find, ``?format=text``)."""
        refused = refusal()
        if refused is not None:
            return refused
        if not SESSION_ID.fullmatch(session_id):
            return jsonify(error="invalid_session_id", message="Not a conversation id."), 400
        try:
            rows = turns(runtime, session_id, request.args.get("q", "")[:200])
        except NoStore as exc:
            return jsonify(error="no_store", message=str(exc)), 404
        except StoreError as exc:
            log.warning("admin: %s", exc)
            return jsonify(error="store_failed", message="The store could not be read."), 500
        if request.args.get("format") == "text":
            response = Response(as_text(session_id, rows), content_type="text/plain; charset=utf-8")
            name = f"conversation-{session_id[:8]}.txt"
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        else:
            response = jsonify(session_id=session_id, turns=rows)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/api/cluster")
    def cluster_endpoint() -> Response | tuple[Response, int]:
        refused = refusal()
        if refused is not None:
            return refused
        response = jsonify(cluster(runtime, metrics(runtime)))
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
