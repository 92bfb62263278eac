"""The running server over its WebSocket, with real speech at real-time pace."""

from __future__ import annotations

import json

import pytest
import websocket

from monitoring.clients.voice_client import VoiceClient, frames_of, read_wav_16k_mono
from tests.conftest import FIXTURES

pytestmark = pytest.mark.models


def test_spoken_question_over_the_socket_gets_a_spoken_answer(live_server) -> None:
    client = VoiceClient(live_server.ws_url)
    try:
        client.start()
        ready = next(e for e in client.events if e["type"] == "ready")
        assert ready["protocol"] == 1 and ready["input_sample_rate"] == 16000
        frames = frames_of(read_wav_16k_mono(FIXTURES / "question_1.wav"))
        client.stream(frames, until=lambda: client.event_seen("reply_done"), max_s=30)
        turn = client.turns[1]
        assert "capital" in (turn.transcript or "").lower()
        assert turn.reply_text
        assert turn.sample_rate == ready["output_sample_rate"]
        assert turn.audio_bytes / 2 / turn.sample_rate > 0.5
        assert turn.v2v_ms is not None and turn.v2v_ms > 0
        states = [e["state"] for e in client.events if e["type"] == "state"]
        assert states[:4] == ["idle", "listening", "thinking", "speaking"]
    finally:
        client.close()


def test_a_foreign_origin_is_refused(live_server) -> None:
    client = VoiceClient(live_server.ws_url, origin="http://evil.example")
    assert client.wait_for(lambda: client.closed, timeout=10)
    (refusal,) = client.events
    assert refusal["type"] == "error" and refusal["code"] == "origin_not_allowed"
    assert client.close_code == 1008
    client.close()


def test_the_page_origin_is_accepted(live_server) -> None:
    client = VoiceClient(live_server.ws_url, origin=live_server.http_url)
    try:
        client.start()
        assert client.event_seen("ready")
    finally:
        client.close()


def test_bad_messages_get_errors_and_the_socket_stays_usable(live_server) -> None:
    ws = websocket.create_connection(live_server.ws_url, timeout=10)
    try:
        ws.send("not json")
        ws.send_binary(b"\x01\x02\x03")
        ws.send(json.dumps({"type": "ping", "t": 7}))
        seen = []
        while not any(m.get("type") == "pong" for m in seen):
            seen.append(json.loads(ws.recv()))
        codes = [m.get("code") for m in seen if m["type"] == "error"]
        assert "invalid_json" in codes and "bad_audio" in codes
    finally:
        ws.close()
