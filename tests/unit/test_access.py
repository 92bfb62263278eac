"""Who may talk on a server reachable by others: a passcode traded for a session ticket,
tickets asked of every voice socket, their scope, and a server that will not start
exposed with no access control at all. Each on a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests
import websocket
from plotly.utils import PlotlyJSONEncoder

from components import access_gate
from core.providers.base import Providers
from core.settings import Settings
from core.transport.tickets import TicketSigner
from monitoring.clients.raw_socket import until_closed
from monitoring.servers.inprocess_server import InProcessServer
from tests.conftest import ROOT
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS

PASSCODE = "correct horse battery"
SECRET = "operator-secret-" + "x" * 20


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    settings = Settings().replace(greeting_after_ms=0, db_path="", access_passcode=PASSCODE,
                                  ticket_secret=SECRET)
    with InProcessServer(settings, Providers(FakeSTT(), FakeLLM(), FakeTTS())) as running:
        yield running


def connect(server: InProcessServer, ticket: str | None) -> websocket.WebSocket:
    ws = websocket.create_connection(server.ws_url, timeout=10)
    if ticket is not None:
        ws.send(json.dumps({"type": "auth", "ticket": ticket}))
    return ws


def passcode_ticket(server: InProcessServer, passcode: str = PASSCODE) -> requests.Response:
    return requests.post(server.http_url + "/api/session-ticket", json={"passcode": passcode}, timeout=5)


def test_a_socket_without_a_ticket_gets_no_session(server: InProcessServer) -> None:
    ws = connect(server, None)
    ws.send(json.dumps({"type": "hello", "protocol": 1, "sample_rate": 16000}))
    events, code, reason = until_closed(ws)
    assert (code, reason) == (1008, "ticket_required") and [e["type"] for e in events] == ["error"]
    assert "passcode" in events[0]["message"]
    forged = connect(server, "v1.eyJ9.AAAA")
    assert until_closed(forged)[1:] == (1008, "ticket_invalid")
    assert server.runtime.pool.stats().active == 0


def test_the_passcode_buys_a_ticket_that_opens_a_session_and_is_renewed(server: InProcessServer) -> None:
    answer = passcode_ticket(server)
    assert answer.status_code == 200 and answer.json()["scope"] == ["talk"]
    ws = connect(server, answer.json()["ticket"])
    renewed = json.loads(ws.recv())
    assert renewed["type"] == "ticket" and renewed["expires_at"] > time.time() + 3000
    assert json.loads(ws.recv())["type"] == "ready"
    ws.send(json.dumps({"type": "text", "text": "What is the capital of France?"}))
    while json.loads(_next_text(ws))["type"] != "reply_done":
        pass
    ws.close()
    again = connect(server, renewed["ticket"])  # the renewed ticket opens the next one
    assert json.loads(again.recv())["type"] == "ticket" and json.loads(again.recv())["type"] == "ready"
    again.close()


def _next_text(ws: websocket.WebSocket) -> str:
    while isinstance(message := ws.recv(), bytes):
        continue
    return message


def test_a_talk_ticket_may_not_change_providers_but_may_change_the_rest(server: InProcessServer) -> None:
    ws = connect(server, passcode_ticket(server).json()["ticket"])
    ws.recv(), ws.recv()  # ticket, ready
    ws.send(json.dumps({"type": "settings", "llm_provider": "openai", "openai_api_key": "sk-x"}))
    while (event := json.loads(_next_text(ws)))["type"] != "error":
        pass
    assert event["code"] == "not_permitted"
    ws.send(json.dumps({"type": "settings", "patience": "patient"}))
    while (event := json.loads(_next_text(ws)))["type"] != "settings_applied":
        pass
    ws.close()
    signer = TicketSigner(SECRET.encode())
    operator, _ = signer.issue(["talk", "providers"], 60, "backend")
    ws = connect(server, operator)
    ws.recv(), ws.recv()
    ws.send(json.dumps({"type": "settings", "llm_provider": "openai", "openai_api_key": "sk-x"}))
    while (event := json.loads(_next_text(ws)))["type"] not in ("settings_applied", "error"):
        pass
    assert event["type"] == "settings_applied"
    ws.close()


def test_an_expired_ticket_is_refused_with_its_reason(server: InProcessServer) -> None:
    old, _ = TicketSigner(SECRET.encode(), clock=lambda: time.time() - 7200).issue(["talk"], 3600)
    events, code, reason = until_closed(connect(server, old))
    assert (code, reason) == (1008, "ticket_expired") and "expired" in events[0]["message"]


def test_wrong_passcodes_slow_the_guesser_down(server: InProcessServer) -> None:
    assert [passcode_ticket(server, f"guess {n}").status_code for n in range(6)] == [401] * 6
    locked = passcode_ticket(server)  # even the right one waits now
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert requests.post(server.http_url + "/api/session-ticket", data="not json",
                         timeout=5).status_code in (401, 429)


def test_the_page_has_a_passcode_form_only_where_one_is_asked_for() -> None:
    assert access_gate.render(None) is None
    form = json.dumps(access_gate.render("passcode").to_plotly_json(), cls=PlotlyJSONEncoder)
    assert '"access-passcode"' in form and '"data-mode": "passcode"' in form
    link = json.dumps(access_gate.render("link").to_plotly_json(), cls=PlotlyJSONEncoder)
    assert "invitation link" in link and "access-passcode" not in link


def test_an_exposed_server_without_access_control_does_not_start() -> None:
    env = {**os.environ, "VOICECHAT_HOST": "0.0.0.0", "VOICECHAT_PORT": "1"}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "VOICECHAT_ACCESS_PASSCODE" in done.stderr
    assert Settings(host="0.0.0.0", access_passcode="x").exposure_problem() is None
    assert Settings(host="0.0.0.0", public_access=True).exposure_problem() is None
    assert Settings(allowed_hosts="voice.example.com").exposure_problem() is not None
    assert Settings().exposure_problem() is None  # localhost: open
