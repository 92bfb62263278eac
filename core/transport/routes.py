"""The ``/ws/voice`` WebSocket route: the origin check, then one ``VoiceConnection``.
(The Host was checked before any route, by ``core.transport.http_guards``.)"""

from __future__ import annotations

import logging

from flask import Flask, request

from core.runtime import VoiceRuntime
from core.transport.access import AccessPolicy
from core.transport.browser import VoiceConnection
from core.transport.client_address import client_address
from core.transport.hosts import HostPolicy
from core.transport.reader_hub import ReaderHub
from core.transport.socket_io import CLOSE_POLICY, refuse
from core.transport.websocket import SingleThreadServer
from core.transport.websocket_route import SingleThreadSock

log = logging.getLogger(__name__)

VOICE_PATH = "/ws/voice"


def install_voice_socket(app: Flask, runtime: VoiceRuntime, hosts: HostPolicy, access: AccessPolicy) -> None:
    settings = runtime.settings
    app.config["SOCK_SERVER_OPTIONS"] = {
        "ping_interval": settings.heartbeat_s,
        "max_message_size": settings.max_message_bytes,
    }

    # Each socket has a thread of its own, which waits while the hub reads its audio
    # (core/transport/reader_hub.py; without the hub the socket's thread reads it).
    sock = SingleThreadSock(app)
    hub = ReaderHub(batched=settings.vad_batch) if settings.socket_hub else None
    if hub is not None:
        runtime.on_close(hub.stop)

    @app.before_request
    def refuse_while_stopping() -> tuple[dict[str, str], int, dict[str, str]] | None:
        """A stopping process refuses new sockets before the upgrade, with a status a
        balancer retries elsewhere at once (HAProxy's ``retry-on 503``)."""
        if request.path == VOICE_PATH and runtime.draining:
            runtime.metrics.count("refused_server_restarting")
            return {"error": "server_restarting"}, 503, {"Retry-After": "1"}
        return None

    @sock.route(VOICE_PATH)
    def voice_socket(ws: SingleThreadServer) -> None:
        if not hosts.origin_allowed(request.headers.get("Origin"), request.host):
            runtime.metrics.count("refused_origin")
            refuse(ws, CLOSE_POLICY, "origin_not_allowed", "This page may not use the voice service.")
            return
        VoiceConnection(ws, runtime, client_address(request.environ), access, hub).serve()
