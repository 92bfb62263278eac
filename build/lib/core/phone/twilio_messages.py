"""Twilio Media Streams messages (a bidirectional ``<Connect><Stream>``), parsed and built.

Twilio sends JSON text frames: ``connected`` first, then ``start`` (the call and the
audio format), then ``media`` (base64 µ-law, 8 kHz) with ``dtmf`` and ``mark`` among
them, and ``stop`` last. The app sends ``media``, ``mark`` (echoed back once the audio
before it has played, or at once when a ``clear`` dropped it) and ``clear``. Numbers such
as ``sequenceNumber`` come as strings. Field names: docs/phone.md.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from core.transport import json_text

MEDIA_ENCODING = "audio/x-mulaw"
MEDIA_SAMPLE_RATE = 8000
MAX_PAYLOAD_CHARS = 16_384  # base64 of ~1.5 s of audio; Twilio sends 20 ms (216 chars)
MAX_NAME_CHARS = 256


class TwilioMessageError(ValueError):
    """A message that does not follow the Media Streams protocol."""


@dataclass(frozen=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...]
    custom_parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Media:
    track: str
    payload: bytes  # µ-law codes
    timestamp_ms: int | None


@dataclass(frozen=True)
class Mark:
    name: str


@dataclass(frozen=True)
class Dtmf:
    digit: str


@dataclass(frozen=True)
class Stop:
    call_sid: str


TwilioMessage = Connected | Start | Media | Mark | Dtmf | Stop


def _object(data: dict[str, object], name: str) -> dict[str, object]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise TwilioMessageError(f"'{name}' must be an object")
    return value


def _text(data: dict[str, object], name: str, required: bool = True, limit: int = MAX_NAME_CHARS) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise TwilioMessageError(f"'{name}' must be a string of at most {limit} characters")
    return value


def _optional_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _start(data: dict[str, object]) -> Start:
    start = _object(data, "start")
    media_format = start.get("mediaFormat")
    if isinstance(media_format, dict):
        encoding, rate = media_format.get("encoding"), media_format.get("sampleRate")
        if encoding != MEDIA_ENCODING or rate != MEDIA_SAMPLE_RATE or media_format.get("channels", 1) != 1:
            raise TwilioMessageError(f"unsupported media format {encoding!r} at {rate!r} Hz "
                                     f"(expected {MEDIA_ENCODING}, {MEDIA_SAMPLE_RATE} Hz, mono)")
    tracks = start.get("tracks", ["inbound"])
    if not isinstance(tracks, list) or not all(isinstance(t, str) for t in tracks):
        raise TwilioMessageError("'tracks' must be a list of strings")
    raw_parameters = start.get("customParameters") or {}
    if not isinstance(raw_parameters, dict):
        raise TwilioMessageError("'customParameters' must be an object")
    parameters = {str(k)[:MAX_NAME_CHARS]: str(v)[:MAX_NAME_CHARS] for k, v in raw_parameters.items()}
    stream_sid = _text(start, "streamSid", required=False) or _text(data, "streamSid")
    return Start(stream_sid, _text(start, "callSid"), _text(start, "accountSid", required=False),
                 tuple(tracks), parameters)


def _media(data: dict[str, object]) -> Media:
    media = _object(data, "media")
    payload = _text(media, "payload", limit=MAX_PAYLOAD_CHARS)
    try:
        codes = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TwilioMessageError("'payload' is not base64") from exc
    return Media(_text(media, "track", required=False) or "inbound", codes,
                 _optional_int(media.get("timestamp")))


def parse(text: str) -> TwilioMessage:
    """One text frame from Twilio; ``TwilioMessageError`` says what is wrong with it."""
    try:
        data = json_text.loads(text)
    except json_text.JsonTextError as exc:
        raise TwilioMessageError("not JSON") from exc
    if not isinstance(data, dict):
        raise TwilioMessageError("not a JSON object")
    kind = data.get("event")
    if kind == "media":
        return _media(data)
    if kind == "mark":
        return Mark(_text(_object(data, "mark"), "name"))
    if kind == "dtmf":
        return Dtmf(_text(_object(data, "dtmf"), "digit", limit=1))
    if kind == "start":
        return _start(data)
    if kind == "connected":
        return Connected(_text(data, "protocol", required=False), _text(data, "version", required=False))
    if kind == "stop":
        stop = data.get("stop")
        return Stop(_text(stop, "callSid", required=False) if isinstance(stop, dict) else "")
    raise TwilioMessageError(f"unknown event {str(kind)[:40]!r}")


def _dump(message: dict[str, object]) -> str:
    return json.dumps(message, separators=(",", ":"))


def media_message(stream_sid: str, codes: bytes) -> str:
    return _dump({"event": "media", "streamSid": stream_sid,
                  "media": {"payload": base64.b64encode(codes).decode("ascii")}})


def mark_message(stream_sid: str, name: str) -> str:
    return _dump({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    return _dump({"event": "clear", "streamSid": stream_sid})
