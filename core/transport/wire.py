"""Wire format of ``/ws/voice`` (version 1); docs/protocol.md is the description.

Client to server: binary messages are raw PCM16 little-endian, 16 kHz mono; text
messages are JSON objects with a ``type``. Server to client: JSON events, and binary
reply audio, each message a 12-byte header followed by PCM16 little-endian mono.

The server's side is the session's typed output events (``core.conversation.events``,
``core.session.events``), serialized here and nowhere else: ``encode_event``.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from dataclasses import dataclass
from typing import Any

from core.conversation.events import (
    AudioKind,
    Clear,
    ErrorNotice,
    Ignored,
    OutputEvent,
    ReplyAudio,
    ReplyDone,
    ReplyResumed,
    ReplyStarted,
    ReplyText,
    SentenceStart,
    StateChanged,
    Thinking,
    Transcript,
    UserSpeechDiscarded,
    UserSpeechStarted,
    UserSpeechStopped,
    plain,
)
from core.errors import ClientError
from core.session.events import (
    Advice,
    ConversationDeleted,
    Pong,
    ProviderStatusChanged,
    Ready,
    SettingsApplied,
)
from core.transport import json_text

PROTOCOL_VERSION = 1
AUDIO_MAGIC = b"VC"
AUDIO_KIND_REPLY = int(AudioKind.REPLY)
AUDIO_KIND_CUE = int(AudioKind.CUE)
AUDIO_KINDS = (AUDIO_KIND_REPLY, AUDIO_KIND_CUE)
AUDIO_HEADER = struct.Struct("<2sBBII")  # magic, version, kind, turn, sample rate
MAX_TEXT_CHARS = 2000

CLIENT_TYPES = frozenset({"hello", "start", "stop", "text", "playback_done", "ping", "settings", "resume",
                          "delete_conversation", "auth", "interrupt"})
MAX_ID_CHARS = 128


@dataclass(frozen=True)
class ClientMessage:
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class AudioMessage:
    turn: int
    sample_rate: int
    kind: int
    pcm16: bytes


def encode_reply_audio(turn: int, sample_rate: int, pcm16: bytes, kind: int = AUDIO_KIND_REPLY) -> bytes:
    return AUDIO_HEADER.pack(AUDIO_MAGIC, PROTOCOL_VERSION, kind, turn, sample_rate) + pcm16


def decode_reply_audio(message: bytes) -> AudioMessage:
    """A server audio message taken apart; for clients and tests."""
    if len(message) < AUDIO_HEADER.size:
        raise ClientError("bad_audio", "audio message shorter than its header")
    magic, version, kind, turn, rate = AUDIO_HEADER.unpack_from(message)
    if magic != AUDIO_MAGIC or version != PROTOCOL_VERSION or kind not in AUDIO_KINDS:
        raise ClientError("bad_audio", "unknown audio header")
    return AudioMessage(turn, rate, kind, message[AUDIO_HEADER.size :])


def parse_control(text: str) -> ClientMessage:
    try:
        data = json_text.loads(text)
    except json_text.JsonTextError as exc:
        raise ClientError("invalid_json", "message is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ClientError("invalid_message", "message must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise ClientError("unknown_type", f"unknown message type {str(kind)[:40]!r}")
    if kind == "text":
        text_value = data.get("text")
        if not isinstance(text_value, str) or not text_value.strip():
            raise ClientError("invalid_message", "text message needs a non-empty 'text'")
        if len(text_value) > MAX_TEXT_CHARS:
            raise ClientError("too_large", f"text longer than {MAX_TEXT_CHARS} characters")
    if kind == "playback_done" and not isinstance(data.get("turn"), int):
        raise ClientError("invalid_message", "playback_done needs an integer 'turn'")
    if kind == "resume":
        for name in ("session_id", "token"):
            value = data.get(name)
            if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
                raise ClientError("invalid_message", f"resume needs a string '{name}'")
    if kind == "auth" and not isinstance(data.get("ticket"), str):
        raise ClientError("invalid_message", "auth needs a string 'ticket'")
    if kind == "hello":
        version = data.get("protocol", PROTOCOL_VERSION)
        if version != PROTOCOL_VERSION:
            raise ClientError("unsupported_protocol", f"server speaks protocol {PROTOCOL_VERSION}")
    return ClientMessage(kind, data)


# The ``type`` of each event on the wire (docs/protocol.md, "Server → client").
EVENT_TYPES: dict[type[OutputEvent], str] = {
    Ready: "ready",
    SettingsApplied: "settings_applied",
    StateChanged: "state",
    UserSpeechStarted: "speech_started",
    UserSpeechStopped: "speech_stopped",
    UserSpeechDiscarded: "speech_discarded",
    Transcript: "transcript",
    ReplyText: "reply_text",
    SentenceStart: "sentence_start",
    Thinking: "thinking",
    ReplyStarted: "reply_started",
    ReplyDone: "reply_done",
    Clear: "clear",
    ReplyResumed: "resume",
    Ignored: "ignored",
    ErrorNotice: "error",
    Pong: "pong",
    ProviderStatusChanged: "provider_status",
    ConversationDeleted: "conversation_deleted",
    Advice: "advice",
}
# Fields left out when they hold nothing (an error without a turn, a ready that is not
# a resume's).
_OPTIONAL = {ErrorNotice: ("retryable", "turn", "provider"), Ready: ("history",)}


def event_fields(event: OutputEvent) -> dict[str, Any]:
    """A JSON event as the client receives it: ``type`` first, then the event's fields."""
    kind = type(event)
    fields: dict[str, Any] = {"type": EVENT_TYPES[kind]}
    if kind is Ready:
        fields["protocol"] = PROTOCOL_VERSION
    optional = _OPTIONAL.get(kind, ())
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        if value is None and field.name in optional:
            continue
        fields[field.name] = plain(value)
    return fields


def encode_event(event: OutputEvent) -> str | bytes:
    """One server message: reply audio as a binary message, anything else as JSON text."""
    if isinstance(event, ReplyAudio):
        return encode_reply_audio(event.turn, event.sample_rate, event.pcm, int(event.kind))
    return json.dumps(event_fields(event), separators=(",", ":"))


def ticket_message(ticket: str, expires_at: float) -> str:
    """A renewed session ticket, sent once a socket's own ticket was accepted."""
    return json.dumps({"type": "ticket", "ticket": ticket, "expires_at": expires_at}, separators=(",", ":"))


def error_message(code: str, message: str, retryable: bool | None = None) -> str:
    """An ``error`` event, for a transport that speaks before (or instead of) a session."""
    return json.dumps(event_fields(ErrorNotice(code, message, retryable)), separators=(",", ":"))
