"""Input meant to hurt, on a real server (fake providers): each is refused with a clear
error, logged once, and the session or call goes on."""

from __future__ import annotations

import pytest

from core.phone import twilio_messages
from core.providers.base import Providers
from core.settings import Settings
from core.transport import json_text
from core.transport.wire import ClientError, parse_control
from monitoring.clients.twilio_client import TwilioCall, incoming_call, new_call_sid, stream_instructions
from monitoring.clients.voice_client import VoiceClient
from monitoring.servers.inprocess_server import InProcessServer
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS

HUGE_INTEGER = '{"type": "text", "text": "hi", "n": ' + "9" * 5000 + "}"


@pytest.mark.parametrize("text", [HUGE_INTEGER, '{"type": "ping", "t": NaN}',
                                  '{"type": "ping", "t": ' + "1" * 41 + ".5}"])
def test_numbers_past_the_limits_are_malformed_json(text: str) -> None:
    with pytest.raises(json_text.JsonTextError):
        json_text.loads(text)
    with pytest.raises(ClientError) as error:
        parse_control(text)
    assert error.value.code == "invalid_json"
    with pytest.raises(twilio_messages.TwilioMessageError):
        twilio_messages.parse(text)
    assert json_text.loads('{"t": 12345678901234567890, "x": -1.5e3}') == {"t": 12345678901234567890,
                                                                          "x": -1500.0}


def test_a_huge_integer_is_an_error_event_and_the_session_answers_the_next_question() -> None:
    settings = Settings().replace(greeting_after_ms=0, db_path="", thinking_cue_ms=0)
    with InProcessServer(settings, Providers(FakeSTT(), FakeLLM(), FakeTTS())) as server:
        client = VoiceClient(server.ws_url, timeout_s=5)
        try:
            client.start()
            client.send_raw(HUGE_INTEGER)
            assert client.wait_for(lambda: client.event_seen("error", code="invalid_json"), 5)
            client.send_json({"type": "text", "text": "What is the capital of France?"})
            assert client.wait_for(lambda: client.event_seen("reply_done"), 10)
        finally:
            client.close()
        assert "error:internal" not in server.monitor.snapshot()["counters"]


def test_a_huge_integer_before_the_start_of_a_call_is_skipped() -> None:
    settings = Settings().replace(greeting_after_ms=0, db_path="", phone_enabled=True,
                                  phone_greeting_after_ms=100)
    with InProcessServer(settings, Providers(FakeSTT(), FakeLLM(), FakeTTS())) as server:
        call_sid = new_call_sid()
        instructions = stream_instructions(incoming_call(server.http_url, call_sid).text)
        call = TwilioCall(instructions, call_sid, url=f"ws://127.0.0.1:{server.port}/twilio/media")
        try:
            call.send_raw('{"event": "connected", "n": ' + "9" * 5000 + "}")
            call.begin()
            assert call.wait_for(lambda: bool(call.received("media")), 5)  # greeted all the same
        finally:
            call.stop()
            call.close()
        counters = server.monitor.snapshot()["counters"]
        assert counters["error:phone_message"] == 1 and "error:internal" not in counters
