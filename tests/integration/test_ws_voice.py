"""The running server over its WebSocket, with real speech at real-time pace."""

from __future__ import annotations

import json

import pytest
from simple_websocket import Client, ConnectionClosed

from monitoring.voice_client import VoiceClient, frames_of, read_wav_16k_mono
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
    ws = Client.connect(live_server.ws_url, headers={"Origin": "http://evil.example"})
    with pytest.raises(ConnectionClosed) as closed:
        ws.receive(timeout=10)
        ws.receive(timeout=10)
    assert closed.value.reason == 1008


def test_bad_messages_get_errors_and_the_socket_stays_usable(live_server) -> None:
    ws = Client.connect(live_server.ws_url)
    try:
        ws.send("not json")
        ws.send(b"\x01\x02\x03")
        ws.send(json.dumps({"type": "ping", "t": 7}))
        seen = []
        while not any(m.get("type") == "pong" for m in seen):
            message = ws.receive(timeout=10)
            assert message is not None, seen
            seen.append(json.loads(message))
        codes = [m.get("code") for m in seen if m["type"] == "error"]
        assert "invalid_json" in codes and "bad_audio" in codes
    finally:
        ws.close()
