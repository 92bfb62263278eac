"""The phone endpoints on a real server (fake providers): the webhook's TwiML and its
signature check against Twilio's published examples, and who the media socket lets in."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import numpy as np
import requests
from twilio.request_validator import RequestValidator

from core.phone.audio import InboundAudio
from core.phone.routes import MEDIA_PATH, WEBHOOK_PATH, twiml
from monitoring.clients.twilio_client import (
    TwilioCall,
    incoming_call,
    line_noise,
    new_call_sid,
    phone_frames,
    stream_instructions,
)
from monitoring.clients.voice_client import VoiceClient, read_wav_16k_mono
from tests.conftest import FIXTURES
from tests.support.phone_server import DOCS_TOKEN, PUBLIC, media_url, serve, signature, webhook_call
from tests.support.wait import wait_until

__all__ = ["serve"]  # (the fixture)

# twilio.com/docs/usage/security, "Explore the algorithm yourself"
DOCS_URL = "https://example.com/myapp.php?foo=1&bar=2"
DOCS_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310", "Digits": "1234",
               "From": "+14158675310", "To": "+18005551212"}
DOCS_SIGNATURE = "L/OH5YylLD5NRKLltdqwSvS0BnU="
# twilio-python's tests/unit/test_request_validator.py
LIBRARY_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
LIBRARY_PARAMS = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309",
                  "To": "+18005551212", "Caller": "+14158675309"}
LIBRARY_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_the_documented_signatures_are_reproduced_and_accepted() -> None:
    assert signature(DOCS_TOKEN, DOCS_URL, DOCS_PARAMS) == DOCS_SIGNATURE
    assert signature(DOCS_TOKEN, LIBRARY_URL, LIBRARY_PARAMS) == LIBRARY_SIGNATURE
    validator = RequestValidator(DOCS_TOKEN)  # what the webhook checks with
    assert validator.validate(DOCS_URL, DOCS_PARAMS, DOCS_SIGNATURE)
    assert validator.validate(LIBRARY_URL, LIBRARY_PARAMS, LIBRARY_SIGNATURE)
    assert not validator.validate(DOCS_URL, {**DOCS_PARAMS, "Digits": "1235"}, DOCS_SIGNATURE)


def test_the_twiml_connects_a_bidirectional_stream_like_the_documented_example() -> None:
    # Twilio's example: <Response><Connect><Stream url="wss://mystream.ngrok.io/audiostream" />
    # </Connect></Response>; ours adds the per-call token and what to say if the app hangs up.
    root = ElementTree.fromstring(twiml("wss://mystream.ngrok.io/audiostream", "abc", "Sorry."))
    assert root.tag == "Response" and [c.tag for c in root] == ["Connect", "Say"]
    stream = root.find("./Connect/Stream")
    assert stream is not None and stream.get("url") == "wss://mystream.ngrok.io/audiostream"
    assert [(p.get("name"), p.get("value")) for p in stream] == [("call_token", "abc")]
    assert root.find("./Say").text == "Sorry."


def test_with_an_auth_token_only_signed_webhooks_are_answered(serve) -> None:
    server = serve(twilio_auth_token=DOCS_TOKEN, phone_public_url=PUBLIC)
    form = {"AccountSid": "AC" + "1" * 32, "CallSid": "CA" + "2" * 32, "From": "+14155550100",
            "To": "+14155550199", "CallStatus": "ringing", "Direction": "inbound"}
    post = server.http_url + WEBHOOK_PATH
    good = signature(DOCS_TOKEN, PUBLIC + WEBHOOK_PATH, form)  # the URL Twilio called, not ours
    answered = requests.post(post, data=form, headers={"X-Twilio-Signature": good}, timeout=5)
    assert answered.status_code == 200 and answered.headers["Content-Type"].startswith("text/xml")
    assert stream_instructions(answered.text).url == "wss://voice.example.com" + MEDIA_PATH
    tampered = requests.post(post, data={**form, "From": "+19995550100"},
                             headers={"X-Twilio-Signature": good}, timeout=5)
    unsigned = requests.post(post, data=form, timeout=5)
    assert tampered.status_code == unsigned.status_code == 403
    assert server.monitor.snapshot()["counters"]["refused_phone_signature"] == 2


def test_without_an_auth_token_the_webhook_answers_but_wants_a_call_sid(serve) -> None:
    server = serve()
    answered = incoming_call(server.http_url, new_call_sid())
    instructions = stream_instructions(answered.text)
    assert instructions.url == f"wss://127.0.0.1:{server.port}{MEDIA_PATH}"
    assert instructions.parameters["call_token"].startswith("v1.")
    assert "cannot take your call" in instructions.say_after
    missing = requests.post(server.http_url + WEBHOOK_PATH, data={"From": "+1555"}, timeout=5)
    assert missing.status_code == 400 and "CallSid" in missing.text


def test_a_browser_may_not_open_the_media_socket(serve) -> None:
    server = serve()
    browser = VoiceClient(media_url(server), origin=server.http_url, timeout_s=5)
    try:
        assert browser.wait_for(lambda: False, 5) is False and browser.closed
    finally:
        browser.close()
    assert [e.get("code") for e in browser.events] == ["origin_not_allowed"] and browser.close_code == 1008
    assert server.monitor.snapshot()["counters"]["refused_origin"] == 1


def test_a_stream_without_the_webhooks_token_gets_no_session(serve) -> None:
    server = serve()
    instructions = stream_instructions(incoming_call(server.http_url, new_call_sid()).text)
    call = TwilioCall(instructions, new_call_sid(), url=media_url(server))  # another call's token
    try:
        call.begin()
        assert call.wait_for(lambda: False, 5) is False and call.closed
        assert call.log.close_code == 1008
    finally:
        call.close()
    counters = server.monitor.snapshot()["counters"]
    assert counters["refused_phone_token"] == 1 and "phone_calls" not in counters


def test_with_an_auth_token_the_media_handshake_must_be_signed(serve) -> None:
    server = serve(twilio_auth_token=DOCS_TOKEN, phone_public_url=PUBLIC)
    call_sid = new_call_sid()
    form_signature = signature(DOCS_TOKEN, PUBLIC + WEBHOOK_PATH, {"CallSid": call_sid})
    answered = requests.post(server.http_url + WEBHOOK_PATH, data={"CallSid": call_sid},
                             headers={"X-Twilio-Signature": form_signature}, timeout=5)
    instructions = stream_instructions(answered.text)
    unsigned = TwilioCall(instructions, call_sid, url=media_url(server))
    try:
        assert unsigned.wait_for(lambda: False, 5) is False and unsigned.log.close_code == 1008
    finally:
        unsigned.close()
    signed = signature(DOCS_TOKEN, "wss://voice.example.com" + MEDIA_PATH, {})
    call = TwilioCall(instructions, call_sid, url=media_url(server),
                      headers=[f"X-Twilio-Signature: {signed}"])
    try:
        call.begin()
        assert call.wait_for(lambda: bool(call.received("media")), 5)  # greeted: the call is in
    finally:
        call.stop()
        call.close()
    assert server.monitor.snapshot()["counters"]["refused_phone_signature"] == 1


def test_a_call_is_greeted_and_stop_releases_its_session(serve) -> None:
    server = serve()
    call = webhook_call(server)
    try:
        call.begin()
        assert call.wait_for(lambda: any(n.endswith(":end") for n in call.log.marks_echoed), 10)
        assert server.runtime.pool.stats().active == 1
        call.dtmf("5")
        call.stop()
        wait_until(lambda: server.runtime.pool.stats().active == 0, 5)
    finally:
        call.close()
    counters = server.monitor.snapshot()["counters"]
    assert counters["phone_calls"] == 1 and counters["phone_dtmf"] == 1
    assert server.monitor.active_sessions == 0


def test_a_bug_in_handling_one_media_message_is_reported_and_the_call_goes_on(serve, monkeypatch) -> None:
    convert = InboundAudio.convert
    calls = {"n": 0}

    def buggy_once(self: InboundAudio, codes: bytes) -> bytes:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug in the first frame's conversion")
        return convert(self, codes)

    monkeypatch.setattr(InboundAudio, "convert", buggy_once)
    server = serve()
    call = webhook_call(server)
    try:
        call.begin()
        call.stream([], until=call.reply_played(0), max_s=10)  # greeted, the bad frame among these
        quiet = np.random.default_rng(3)
        call.stream([line_noise(quiet) for _ in range(25)])  # a breath (not the greeting's echo)
        question = phone_frames(read_wav_16k_mono(FIXTURES / "question_1.wav"))
        call.stream(question, until=call.reply_played(1), max_s=20)
        assert call.last_played_turn() >= 2, "the caller was not heard after the bad frame"
    finally:
        call.stop()
        call.close()
    assert server.monitor.snapshot()["counters"]["error:internal"] == 1
