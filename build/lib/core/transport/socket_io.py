"""Writing to a voice or phone socket from any thread, and refusing a connection."""

from __future__ import annotations

from typing import Any

from simple_websocket import ConnectionClosed

from core.transport.wire import error_message

CLOSE_POLICY = 1008  # origin refused, flooding
CLOSE_INTERNAL = 1011  # the server cannot go on with this connection (a bug)
CLOSE_RESTART = 1012  # the server is restarting: reconnect
CLOSE_TRY_AGAIN = 1013  # server full, too many from one address


def send(ws: Any, payload: str | bytes) -> None:
    """Send on a socket from any thread (``SingleThreadServer`` orders the writes); a
    closed socket raises ``ConnectionError``, which senders already handle."""
    try:
        ws.send(payload)
    except ConnectionClosed as exc:
        raise ConnectionError("socket closed") from exc


def close(ws: Any, code: int, reason: str) -> bool:
    """Start the close handshake from any thread; False when it was closed already."""
    try:
        ws.close(reason=code, message=reason)
    except ConnectionClosed:
        return False
    return True


def refuse(ws: Any, code: int, error: str, message: str) -> None:
    """Tell the client why, close with ``code``, and wait for its close reply.

    Returning at once would let the server drop the TCP connection while the client's
    close frame is in flight; the reset can then swallow our close frame and its code.
    """
    try:
        ws.send(error_message(error, message, retryable=code == CLOSE_TRY_AGAIN))
        ws.close(reason=code, message=error)
    except ConnectionClosed:
        return
    ws.wait_closed(timeout=2.0)  # this thread reads the reply (core/transport/websocket.py)
