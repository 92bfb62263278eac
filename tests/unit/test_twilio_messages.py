"""Media Streams messages, parsed from the examples in Twilio's docs and built as Twilio
expects them; malformed ones get a clear error."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.phone import twilio_messages
from core.phone.twilio_messages import Connected, Dtmf, Mark, Media, Start, Stop, TwilioMessageError
from tests.unit.test_fuzz_messages import json_values

SID = "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
CALL = "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
ACCOUNT = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
# The examples of twilio.com/docs/voice/media-streams/websocket-messages (payload shortened
# there too; here a real one).
CONNECTED = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
START = {"event": "start", "sequenceNumber": "1",
         "start": {"accountSid": ACCOUNT, "streamSid": SID, "callSid": CALL, "tracks": ["inbound"],
                   "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                   "customParameters": {"FirstName": "Jane", "LastName": "Doe", "RemoteParty": "Bob"}},
         "streamSid": SID}
MEDIA = {"event": "media", "sequenceNumber": "4",
         "media": {"track": "inbound", "chunk": "2", "timestamp": "5",
                   "payload": base64.b64encode(bytes(range(160))).decode()},
         "streamSid": SID}
DTMF = {"event": "dtmf", "streamSid": SID, "sequenceNumber": "5",
        "dtmf": {"track": "inbound_track", "digit": "1"}}
MARK = {"event": "mark", "sequenceNumber": "4", "streamSid": SID, "mark": {"name": "my label"}}
STOP = {"event": "stop", "sequenceNumber": "5",
        "stop": {"accountSid": ACCOUNT, "callSid": CALL},
        "streamSid": SID}


def parse(message: dict) -> object:
    return twilio_messages.parse(json.dumps(message))


def test_the_documented_messages_parse() -> None:
    assert parse(CONNECTED) == Connected("Call", "1.0.0")
    start = parse(START)
    assert isinstance(start, Start)
    assert (start.stream_sid, start.call_sid, start.tracks) == (SID, CALL, ("inbound",))
    assert start.custom_parameters == {"FirstName": "Jane", "LastName": "Doe", "RemoteParty": "Bob"}
    assert parse(MEDIA) == Media("inbound", bytes(range(160)), 5)
    assert parse(DTMF) == Dtmf("1")
    assert parse(MARK) == Mark("my label")
    assert parse(STOP) == Stop(CALL)


@pytest.mark.parametrize(("message", "says"), [
    ("not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps({"event": "hangup"}), "unknown event"),
    (json.dumps({**MEDIA, "media": {"payload": "%%%"}}), "not base64"),
    (json.dumps({**MEDIA, "media": {"payload": "A" * 20_000}}), "payload"),
    (json.dumps({**MEDIA, "media": "x"}), "'media' must be an object"),
    (json.dumps({**MARK, "mark": {}}), "'name'"),
    (json.dumps({**DTMF, "dtmf": {"digit": "12"}}), "'digit'"),
    (json.dumps({**START, "start": {**START["start"], "callSid": 5}}), "'callSid'"),
    (json.dumps({**START, "start": {**START["start"], "mediaFormat": {
        "encoding": "audio/l16", "sampleRate": 16000, "channels": 1}}}), "unsupported media format"),
])
def test_malformed_messages_say_what_is_wrong(message: str, says: str) -> None:
    with pytest.raises(TwilioMessageError, match=says):
        twilio_messages.parse(message)


def test_numbers_may_come_as_numbers_too() -> None:
    media = parse({**MEDIA, "media": {**MEDIA["media"], "timestamp": 40}})
    assert isinstance(media, Media) and media.timestamp_ms == 40


def test_what_the_app_sends_has_twilios_shape() -> None:
    assert json.loads(twilio_messages.media_message(SID, b"\xff\x7f")) == {
        "event": "media", "streamSid": SID, "media": {"payload": "/38="}}
    assert json.loads(twilio_messages.mark_message(SID, "3:12")) == {
        "event": "mark", "streamSid": SID, "mark": {"name": "3:12"}}
    assert json.loads(twilio_messages.clear_message(SID)) == {"event": "clear", "streamSid": SID}


twilio_like = st.fixed_dictionaries(
    {"event": st.sampled_from(["connected", "start", "media", "mark", "dtmf", "stop", "clear", "", "x"])},
    optional={"start": json_values | st.just(START["start"]), "media": json_values | st.just(MEDIA["media"]),
              "mark": json_values, "dtmf": json_values, "stop": json_values, "streamSid": json_values,
              "sequenceNumber": json_values},
)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(twilio_like.map(json.dumps), st.text(max_size=100),
                      st.sampled_from(["[" * 5000, "{}"])))
def test_any_text_parses_or_gets_a_twilio_message_error(text: str) -> None:
    try:
        parsed = twilio_messages.parse(text)
    except TwilioMessageError as exc:
        assert str(exc)
        return
    assert isinstance(parsed, Connected | Start | Media | Mark | Dtmf | Stop)
