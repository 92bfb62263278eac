"""Who may place a call: the phone routes exist only when enabled, a public setup needs
Twilio's auth token, a call token is spent by one stream within seconds, and calls
count against who asked for them (on a real server, fake providers)."""

from __future__ import annotations

import pytest
import websocket

from core.phone.call_tokens import CallTokens, Redeemed, caller_key
from core.phone.routes import MEDIA_PATH, WEBHOOK_PATH
from core.providers.base import Providers
from core.settings import Settings, SettingsError
from monitoring.clients.twilio_client import TwilioCall, incoming_call, new_call_sid, stream_instructions
from monitoring.servers.inprocess_server import InProcessServer
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.phone_server import DOCS_TOKEN, PUBLIC, media_url, serve, signature, webhook_call

__all__ = ["serve"]  # (the fixture)


def test_without_phone_enabled_the_phone_routes_do_not_exist() -> None:
    settings = Settings().replace(greeting_after_ms=0, db_path="")
    with InProcessServer(settings, Providers(FakeSTT(), FakeLLM(), FakeTTS())) as server:
        webhook = incoming_call(server.http_url, new_call_sid())
        assert webhook.status_code == 405 and "<Stream" not in webhook.text  # (the page's own route)
        with pytest.raises(websocket.WebSocketBadStatusException):  # no upgrade: not a socket here
            websocket.create_connection(media_url(server), timeout=5)


def test_a_public_phone_setup_without_the_auth_token_does_not_start() -> None:
    for public in ({"host": "0.0.0.0"}, {"phone_public_url": "https://calls.example.org"}):
        with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN"):
            Settings().replace(phone_enabled=True, **public)
        Settings().replace(phone_enabled=True, twilio_auth_token=DOCS_TOKEN, **public)
    Settings().replace(phone_enabled=True)  # on this machine only (a local test): allowed


def test_a_call_token_is_spent_by_its_first_stream(serve) -> None:
    server = serve()
    call_sid = new_call_sid()
    instructions = stream_instructions(incoming_call(server.http_url, call_sid).text)
    first = TwilioCall(instructions, call_sid, url=media_url(server))
    try:
        first.begin()
        assert first.wait_for(lambda: bool(first.received("media")), 5)  # greeted: the call is in
        replay = TwilioCall(instructions, call_sid, url=media_url(server))  # the same start again
        try:
            replay.begin()
            assert replay.wait_for(lambda: False, 5) is False and replay.log.close_code == 1008
        finally:
            replay.close()
    finally:
        first.stop()
        first.close()
    counters = server.monitor.snapshot()["counters"]
    assert counters["phone_calls"] == 1 and counters["refused_phone_token"] == 1


def test_tokens_expire_name_their_call_and_cannot_be_forged() -> None:
    now = [1000.0]
    tokens = CallTokens(b"k" * 32, ttl_s=30, clock=lambda: now[0])
    token = tokens.issue("CA1", "addr:127.0.0.1")
    assert tokens.redeem("CA2", token) is None  # another call's
    forged = token.replace("addr:127.0.0.1", "addr:10.0.0.1")
    assert tokens.redeem("CA1", forged) is None
    assert tokens.redeem("CA1", 12345) is None and tokens.redeem("CA1", "") is None
    now[0] += 31
    assert tokens.redeem("CA1", token) is None  # too late
    fresh = tokens.issue("CA1", "addr:127.0.0.1")
    assert tokens.redeem("CA1", fresh) == Redeemed("CA1", "addr:127.0.0.1")
    assert tokens.redeem("CA1", fresh) is None  # spent
    assert caller_key("+1555", "1.2.3.4", number_vouched=False) == "addr:1.2.3.4"
    assert caller_key("+1555", "1.2.3.4", number_vouched=True).startswith("tel:")


def test_calls_count_against_who_asked_for_them(serve) -> None:
    # Unsigned: the webhook's client address (here every call comes from 127.0.0.1).
    server = serve(max_sessions_per_address=1)
    calls = [webhook_call(server) for _ in range(2)]
    try:
        calls[0].begin()
        assert calls[0].wait_for(lambda: bool(calls[0].received("media")), 5)
        calls[1].begin()
        assert calls[1].wait_for(lambda: False, 5) is False and calls[1].log.close_code == 1013
    finally:
        for call in calls:
            call.close()
    assert server.monitor.snapshot()["counters"]["refused_address_limit"] == 1


def test_signed_calls_count_against_the_calling_number(serve) -> None:
    server = serve(max_sessions_per_address=1, twilio_auth_token=DOCS_TOKEN, phone_public_url=PUBLIC)
    signed = signature(DOCS_TOKEN, "wss://voice.example.com" + MEDIA_PATH, {})
    calls = []
    for caller in ("+14155550101", "+14155550102"):
        call_sid = new_call_sid()
        answered = incoming_call(server.http_url, call_sid, auth_token=DOCS_TOKEN,
                                 signed_url=PUBLIC + WEBHOOK_PATH, caller=caller)
        calls.append(TwilioCall(stream_instructions(answered.text), call_sid, url=media_url(server),
                                headers=[f"X-Twilio-Signature: {signed}"]))
    try:
        for call in calls:
            call.begin()
        for call in calls:
            assert call.wait_for(lambda c=call: bool(c.received("media")), 5)  # both are in
    finally:
        for call in calls:
            call.stop()
            call.close()
