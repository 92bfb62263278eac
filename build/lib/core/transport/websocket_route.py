"""flask-sock's ``Sock`` with routes that get a ``SingleThreadServer``
(``core.transport.websocket``): one thread per socket, which also reads it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import Response, current_app, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from core.transport.websocket import SingleThreadServer

log = logging.getLogger(__name__)


class _Handover(Response):
    """What the WSGI server gets back once the socket is done (as flask-sock does it):
    gunicorn is told the connection is over, werkzeug gets a response it writes nowhere."""

    ws_mode = "unknown"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if self.ws_mode == "gunicorn":
            raise StopIteration()
        if self.ws_mode == "werkzeug":
            return super().__call__(environ, start_response)
        return []


class SingleThreadSock(Sock):
    """flask-sock's extension, whose routes get a ``SingleThreadServer`` (built from
    ``app.config["SOCK_SERVER_OPTIONS"]`` as flask-sock does), never with compression.
    flask-sock builds its
    ``Server`` inside ``route`` with no way to choose the class, so ``route`` is redone:
    the socket is closed (1000, unless the handler closed it) and the client's reply
    awaited before the handover to the WSGI server (gunicorn, werkzeug)."""

    def route(self, path: str, bp: Any = None, **kwargs: Any) -> Callable[
            [Callable[..., None]], Callable[..., Response]]:
        def decorator(handler: Callable[..., None]) -> Callable[..., Response]:
            @wraps(handler)
            def websocket_route(*args: Any, **route_kwargs: Any) -> Response:
                # Audio does not compress, but simple-websocket accepts permessage-deflate
                # whenever a client offers it (browsers do): every 20 ms frame would be
                # inflated for nothing. Without the offer the handshake agrees on none.
                request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
                ws = SingleThreadServer(request.environ,
                                        **current_app.config.get("SOCK_SERVER_OPTIONS", {}))
                try:
                    handler(ws, *args, **route_kwargs)
                except ConnectionClosed:
                    log.debug("websocket closed by the client")
                try:
                    ws.close()
                except ConnectionClosed:
                    log.debug("websocket closed already")
                ws.wait_closed()
                response = _Handover()
                response.ws_mode = ws.mode
                return response

            target = bp if bp is not None else self.app
            if target is None:
                raise RuntimeError("SingleThreadSock needs an app (or a blueprint) for its routes")
            target.route(path, websocket=True, **kwargs)(websocket_route)
            return websocket_route

        return decorator
