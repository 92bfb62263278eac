"""The ``/ws/voice`` WebSocket route: admission, origin check, and the receive loop."""

from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import urlsplit

from flask import Flask, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from core.protocol import event
from core.runtime import VoiceRuntime
from core.session import Session

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008  # origin refused
CLOSE_TRY_AGAIN = 1013  # server full


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


def refuse(ws, code: int, error: str, message: str) -> None:  # type: ignore[no-untyped-def]
    """Tell the client why, close with ``code``, and wait for its close reply.

    Returning at once would let the server drop the TCP connection while the client's
    close frame is in flight; the reset can then swallow our close frame and its code.
    """
    ws.send(json.dumps(event("error", code=error, retryable=code == CLOSE_TRY_AGAIN, message=message)))
    ws.close(reason=code, message=error)
    reader = getattr(ws, "thread", None)
    if reader is not None:
        reader.join(timeout=2.0)


def install_voice_socket(app: Flask, runtime: VoiceRuntime) -> None:
    settings = runtime.settings
    app.config["SOCK_SERVER_OPTIONS"] = {
        "ping_interval": 20,
        "max_message_size": settings.max_message_bytes,
    }
    sock = Sock(app)

    @sock.route("/ws/voice")
    def voice_socket(ws) -> None:  # type: ignore[no-untyped-def]
        if not origin_allowed(request.headers.get("Origin"), request.host, settings.origin_allow_list):
            runtime.monitor.count("refused_origin")
            refuse(ws, CLOSE_POLICY, "origin_not_allowed", "This page may not use the voice service.")
            return

        def send(payload: str | bytes) -> None:
            try:
                ws.send(payload)
            except ConnectionClosed as exc:
                raise ConnectionError("socket closed") from exc

        entry = runtime.pool.admit(uuid.uuid4().hex, request.remote_addr or "?")
        if entry is None:
            runtime.monitor.count("refused_full")
            refuse(ws, CLOSE_TRY_AGAIN, "server_full",
                   "The server has no room for another conversation right now.")
            return
        session = Session(entry.session_id, settings, runtime.workers, runtime.catalog, send, runtime.monitor,
                          runtime.engine_config)
        entry.session = session
        runtime.monitor.session_opened()
        log.info("session %s opened", session.id[:8])
        try:
            session.open()
            while True:
                message = ws.receive(timeout=settings.session_idle_timeout_s)
                if message is None:
                    send(json.dumps(event(
                        "error", code="idle_timeout", retryable=True,
                        message="Closed after a long time without activity.")))
                    break
                try:
                    if isinstance(message, bytes):
                        session.handle_binary(message)
                    else:
                        session.handle_text(message)
                except (ConnectionClosed, ConnectionError):
                    raise
                except Exception:
                    # A bug must not end the conversation: say so, keep the session.
                    log.exception("session %s: message handling failed", session.id[:8])
                    runtime.monitor.count("error:internal")
                    send(json.dumps(event("error", code="internal_error", retryable=True,
                                          message="Something went wrong on the server.")))
        except ConnectionClosed:
            log.info("session %s: client closed", session.id[:8])
        except ConnectionError:
            log.info("session %s: socket gone", session.id[:8])
        finally:
            session.close()
            runtime.pool.remove(session.id)
            runtime.monitor.session_closed()
            log.info("session %s closed", session.id[:8])
