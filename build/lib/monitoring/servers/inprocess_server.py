"""The app served from this process on a free 127.0.0.1 port (werkzeug, one thread per
connection), for fault injection and the soak: the test can reach into the runtime
(its pool, its providers) and count this process's threads and open files."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, make_server

from core.providers.base import Providers
from core.runtime import VoiceRuntime
from core.settings import Settings
from monitoring.metrics.monitor import PerformanceMonitor


class InProcessServer:
    def __init__(self, settings: Settings, providers: Providers) -> None:
        from app import create_app

        self.monitor = PerformanceMonitor()
        self.runtime = VoiceRuntime(settings.replace(host="127.0.0.1"), providers=providers,
                                    metrics=self.monitor)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        app = create_app(self.runtime)
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app.server, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="inprocess-server",
                                        kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/voice"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> InProcessServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()
        self.runtime.close()

    def __enter__(self) -> InProcessServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
