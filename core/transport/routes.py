"""The ``/ws/voice`` WebSocket route: the origin check, then one ``VoiceConnection``."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, request

from core.runtime import VoiceRuntime
from core.transport.browser import VoiceConnection
from core.transport.socket_io import CLOSE_POLICY, refuse
from core.transport.websocket import SingleThreadServer
from core.transport.websocket_route import SingleThreadSock

log = logging.getLogger(__name__)

VOICE_PATH = "/ws/voice"


def origin_allowed(origin: str | None, host: str, allow_list: tuple[str, ...]) -> bool:
    """Browsers always send Origin; it must name this host or an allowed origin.

    Non-browser clients (the benchmark, the load tester) send none and are allowed:
    Origin protects browser users from other sites, it is not authentication.
    """
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in allow_list:
        return True
    return urlsplit(origin).netloc == host


def install_voice_socket(app: Flask, runtime: VoiceRuntime) -> None:
    settings = runtime.settings
    app.config["SOCK_SERVER_OPTIONS"] = {
        "ping_interval": settings.heartbeat_s,
        "max_message_size": settings.max_message_bytes,
    }

    # One thread per socket: the socket's own thread reads it (see core/transport/websocket.py).
    sock = SingleThreadSock(app)

    @sock.route(VOICE_PATH)
    def voice_socket(ws: SingleThreadServer) -> None:
        if not origin_allowed(request.headers.get("Origin"), request.host, settings.origin_allow_list):
            runtime.metrics.count("refused_origin")
            refuse(ws, CLOSE_POLICY, "origin_not_allowed", "This page may not use the voice service.")
            return
        VoiceConnection(ws, runtime, request.remote_addr or "?").serve()
