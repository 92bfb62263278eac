"""A real server (gunicorn) says when it is ready, tells its clients before a SIGTERM
closes their sockets, and logs JSON lines when asked."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import requests
import websocket

from monitoring.clients.raw_socket import until_closed
from monitoring.servers.server_process import ServerProcess
from monitoring.servers.simulated import SIMULATED_ENV


def test_ready_then_clients_are_told_before_a_sigterm_closes_them(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server = ServerProcess(env={**SIMULATED_ENV, "VOICECHAT_LOG_FORMAT": "json"}, log_path=log).start()
    try:
        ready = requests.get(server.http_url + "/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["checks"] == {
            "models_loaded": True, "store_writable": True, "providers_answering": True,
            "accepting_sessions": True}
        ws = websocket.create_connection(server.ws_url, timeout=10)
        assert json.loads(ws.recv())["type"] == "ready"
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        events, close_code, _ = until_closed(ws)
        stopping.join(30)
        notice = [e for e in events if e["type"] == "error"]
        assert close_code == 1012 and notice and notice[0]["code"] == "server_restarting"
        assert notice[0]["retryable"] is True
    finally:
        server.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any("draining" in line["message"] for line in lines)
    assert {"time", "level", "logger", "message"} <= set(lines[0])
