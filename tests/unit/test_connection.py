"""The socket layer on a real server (fake providers): limits per address, resume with
a token, flooding, oversized messages, idle sessions, and the admin token."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websocket
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect as ws_connect

from core.providers.base import Providers
from core.settings import Settings
from monitoring.clients.voice_client import VoiceClient
from monitoring.servers.inprocess_server import InProcessServer
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.wait import wait_until

TOKEN = "admin-secret-for-tests"


@pytest.fixture
def serve() -> Iterator[Callable[..., InProcessServer]]:
    servers: list[InProcessServer] = []

    def start(**changes: Any) -> InProcessServer:
        changes = {"greeting_after_ms": 0, "thinking_cue_ms": 0, "db_path": "", "admin_token": TOKEN,
                   **changes}
        settings = Settings().replace(**changes)
        server = InProcessServer(settings, Providers(FakeSTT(), FakeLLM(), FakeTTS())).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def connect(server: InProcessServer) -> VoiceClient:
    client = VoiceClient(server.ws_url, timeout_s=5)
    assert client.wait_for(lambda: client.event_seen("ready"), 5)
    return client


def talk(client: VoiceClient, text: str, turn: int) -> None:
    client.send_json({"type": "start"})
    client.send_json({"type": "text", "text": text})
    assert client.wait_for(lambda: client.event_seen("reply_done", turn=turn), 5)


def error_codes(client: VoiceClient) -> list[str]:
    return [e["code"] for e in client.events if e["type"] == "error"]


def test_one_address_is_refused_past_its_limit_with_a_reason(serve) -> None:
    server = serve(max_sessions_per_address=2)
    first, second = connect(server), connect(server)
    third = VoiceClient(server.ws_url, timeout_s=5)
    assert third.wait_for(lambda: third.closed, 5)
    assert error_codes(third) == ["address_limit"] and third.close_code == 1013
    talk(first, "still fine", 1)  # the admitted ones are untouched
    for client in (first, second, third):
        client.close()


def test_a_dropped_session_is_resumed_with_its_token_and_a_forged_one_gets_nothing(serve) -> None:
    server = serve()
    first = connect(server)
    talk(first, "remember the word banana", 1)
    ready = next(e for e in first.events if e["type"] == "ready")
    first.close()  # the socket drops

    forged = connect(server)
    forged.send_json({"type": "resume", "session_id": ready["session_id"], "token": "x" * 32})
    assert forged.wait_for(lambda: "resume_refused" in error_codes(forged), 5)
    assert not any(e["type"] == "ready" and e.get("resumed") for e in forged.events)
    forged.close()

    back = connect(server)
    back.send_json({"type": "resume", "session_id": ready["session_id"], "token": ready["resume_token"]})
    assert back.wait_for(lambda: back.event_seen("ready", resumed=True), 5)
    resumed = next(e for e in back.events if e["type"] == "ready" and e["resumed"])
    assert resumed["session_id"] == ready["session_id"] and resumed["resume_token"] != ready["resume_token"]
    assert [m["text"] for m in resumed["history"]][:1] == ["remember the word banana"]
    talk(back, "what was the word", 2)  # the conversation carries on: the turns go on counting
    back.close()

    late = connect(server)  # the old token was used up
    late.send_json({"type": "resume", "session_id": ready["session_id"], "token": ready["resume_token"]})
    assert late.wait_for(lambda: "resume_refused" in error_codes(late), 5)
    late.close()


def test_a_flooding_client_is_limited_and_the_others_are_not_harmed(serve) -> None:
    server = serve(messages_per_second=10)
    calm, flood = connect(server), connect(server)
    for n in range(200):
        flood.send_json({"type": "ping", "t": n})
    assert flood.wait_for(lambda: "rate_limited" in error_codes(flood), 5)
    pongs = sum(1 for e in flood.events if e["type"] == "pong")
    assert pongs <= 25  # the burst (2 s worth), not the 200
    talk(calm, "hello", 1)
    assert error_codes(calm) == []
    calm.close()
    flood.close()


def test_an_oversized_message_closes_with_a_reason(serve) -> None:
    server = serve(max_message_bytes=4096)
    client = connect(server)
    client._ws.send_binary(b"\x00" * 10_000)
    assert client.wait_for(lambda: client.closed, 5)
    assert client.close_code == 1009  # message too big


def test_an_idle_session_is_closed_with_a_reason(serve) -> None:
    server = serve(session_idle_timeout_s=0.3)
    client = connect(server)
    assert client.wait_for(lambda: client.closed, 5)
    assert "idle_timeout" in error_codes(client)


def fetch(url: str, token: str | None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_metrics_need_the_admin_token(serve) -> None:
    server = serve()
    client = connect(server)
    talk(client, "hello", 1)
    for path in ("/metrics", "/metrics.json"):
        assert fetch(server.http_url + path, None)[0] == 401
        assert fetch(server.http_url + path, "wrong")[0] == 401
    status, body = fetch(server.http_url + "/metrics.json", TOKEN)
    assert status == 200 and body["pool"]["active"] == 1
    assert {p["role"] for p in body["providers"]} == {"stt", "llm", "tts"}
    session_id = next(e for e in client.events if e["type"] == "ready")["session_id"]
    (recent,) = body["recent_turns"]  # what the admin page's table and charts are drawn from
    assert recent["session"] == session_id[:8] and recent["timings"]["tts_first_audio_ms"] >= 0
    assert sum(b["turns"] for b in body["series"]) == 1
    # A typed turn: not in the spoken turns' latency (it has no end of speech to wait for).
    assert body["voice_to_voice"]["n"] == 0 and body["voice_to_voice_by_kind"]["typed"]["n"] == 1
    assert body["barge_in"] == {"p50": None, "p95": None, "n": 0}
    request = urllib.request.Request(server.http_url + "/metrics",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(response.read().decode())}
    assert [s.value for s in families["voicechat_sessions"].samples
            if s.labels["state"] == "active"] == [1]
    assert {s.labels["role"] for s in families["voicechat_provider_up"].samples} == {"stt", "llm", "tts"}
    # Durations are histograms in seconds: the typed turn is counted once, by kind and channel.
    v2v = families["voicechat_voice_to_voice_seconds"]
    assert v2v.type == "histogram"
    (count,) = [s for s in v2v.samples if s.name.endswith("_count")]
    assert count.value == 1 and count.labels == {"kind": "typed", "channel": "browser"}
    inf = [s for s in v2v.samples if s.name.endswith("_bucket") and s.labels["le"] == "+Inf"]
    assert [s.value for s in inf] == [1]
    assert not families["voicechat_turn_stage_seconds"].samples  # stages: spoken turns only
    assert [s.value for s in families["voicechat_turns"].samples if s.name.endswith("_total")] == [1]
    assert not families["voicechat_barge_in_seconds"].samples  # none yet
    assert families["process_cpu_seconds"].type == "counter"  # the standard process collector
    assert families["process_resident_memory_bytes"].samples[0].value > 0
    client.close()


def test_metrics_are_closed_without_a_configured_token(serve) -> None:
    server = serve(admin_token="")
    for path in ("/metrics", "/metrics.json"):
        status, body = fetch(server.http_url + path, "")
        assert status == 403 and body["error"] == "admin_disabled"


def test_a_peer_that_stops_answering_pings_is_closed(serve) -> None:
    server = serve(heartbeat_s=0.2)
    silent = websocket.create_connection(server.ws_url, timeout=5)  # never reads: never pongs
    try:
        wait_until(lambda: len(server.runtime.pool) == 1, 5)
        wait_until(lambda: len(server.runtime.pool) == 0, 5)  # a missed pong ends it
    finally:
        silent.close()


def test_the_voice_socket_agrees_on_no_compression_even_when_offered(serve) -> None:
    # Browsers offer permessage-deflate; audio frames gain nothing from it and cost CPU.
    server = serve()

    async def handshake() -> tuple[str | None, str | None]:
        async with ws_connect(server.ws_url, compression="deflate", proxy=None) as ws:
            offered = ws.request.headers.get("Sec-WebSocket-Extensions") if ws.request else None
            return offered, ws.response.headers.get("Sec-WebSocket-Extensions") if ws.response else None

    offered, agreed = asyncio.run(handshake())
    assert offered is not None and "permessage-deflate" in offered
    assert agreed is None
