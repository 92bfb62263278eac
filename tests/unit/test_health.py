"""/readyz answers what a balancer needs to know, check by check; a draining server
takes no new session."""

from __future__ import annotations

import json
import logging
import sys

import pytest
import requests
import websocket

from core.log_format import JsonLines
from core.providers.base import Providers
from core.settings import Settings
from monitoring.servers.inprocess_server import InProcessServer
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS


def test_ready_only_once_warm_and_not_while_draining(tmp_path) -> None:
    settings = Settings().replace(greeting_after_ms=0, db_path=str(tmp_path / "turns.db"))
    with InProcessServer(settings, Providers(FakeSTT(), FakeLLM(), FakeTTS())) as server:
        cold = requests.get(server.http_url + "/readyz", timeout=5)
        assert cold.status_code == 503 and cold.json()["checks"]["models_loaded"] is False
        server.runtime.warm_up()
        assert requests.get(server.http_url + "/readyz", timeout=5).json()["ready"] is True
        server.runtime.store.last_error_at = 9e18  # a write failed just now
        failing = requests.get(server.http_url + "/readyz", timeout=5).json()
        assert failing["checks"]["store_writable"] is False
        server.runtime.store.last_error_at = None
        assert server.runtime.drain() == 0
        draining = requests.get(server.http_url + "/readyz", timeout=5)
        assert draining.status_code == 503 and draining.json()["checks"]["accepting_sessions"] is False
        # Refused before the upgrade, with a status a balancer tries elsewhere (retry-on 503).
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(server.ws_url, timeout=5)
        assert refused.value.status_code == 503 and refused.value.resp_headers["retry-after"] == "1"
        assert json.loads(refused.value.resp_body)["error"] == "server_restarting"
        assert requests.get(server.http_url + "/healthz", timeout=5).json() == {"status": "ok"}


def test_json_log_lines_carry_the_exception() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord("core.x", logging.ERROR, __file__, 1, "failed %s", ("once",),
                                   sys.exc_info())
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "failed once" and line["level"] == "ERROR" and line["exception"] == "ValueError"
    assert "Traceback" in line["traceback"]
