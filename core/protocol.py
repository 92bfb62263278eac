"""Wire format of ``/ws/voice`` (version 1); docs/protocol.md is the description.

Client to server: binary messages are raw PCM16 little-endian, 16 kHz mono; text
messages are JSON objects with a ``type``. Server to client: JSON events, and binary
reply audio, each message a 12-byte header followed by PCM16 little-endian mono.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1
AUDIO_MAGIC = b"VC"
AUDIO_KIND_REPLY = 1  # the answer
AUDIO_KIND_CUE = 2  # a short "let me think" played while the answer is slow
AUDIO_KINDS = (AUDIO_KIND_REPLY, AUDIO_KIND_CUE)
AUDIO_HEADER = struct.Struct("<2sBBII")  # magic, version, kind, turn, sample rate
MAX_TEXT_CHARS = 2000

CLIENT_TYPES = frozenset({"hello", "start", "stop", "text", "playback_done", "ping", "settings", "resume"})
MAX_ID_CHARS = 128


class ProtocolError(ValueError):
    """A client message that breaks the protocol; ``code`` goes into the error event."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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
        raise ProtocolError("bad_audio", "audio message shorter than its header")
    magic, version, kind, turn, rate = AUDIO_HEADER.unpack_from(message)
    if magic != AUDIO_MAGIC or version != PROTOCOL_VERSION or kind not in AUDIO_KINDS:
        raise ProtocolError("bad_audio", "unknown audio header")
    return AudioMessage(turn, rate, kind, message[AUDIO_HEADER.size :])


def parse_control(text: str) -> ClientMessage:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("invalid_json", "message is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ProtocolError("invalid_message", "message must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise ProtocolError("unknown_type", f"unknown message type {str(kind)[:40]!r}")
    if kind == "text":
        text_value = data.get("text")
        if not isinstance(text_value, str) or not text_value.strip():
            raise ProtocolError("invalid_message", "text message needs a non-empty 'text'")
        if len(text_value) > MAX_TEXT_CHARS:
            raise ProtocolError("too_large", f"text longer than {MAX_TEXT_CHARS} characters")
    if kind == "playback_done" and not isinstance(data.get("turn"), int):
        raise ProtocolError("invalid_message", "playback_done needs an integer 'turn'")
    if kind == "resume":
        for name in ("session_id", "token"):
            value = data.get(name)
            if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
                raise ProtocolError("invalid_message", f"resume needs a string '{name}'")
    if kind == "hello":
        version = data.get("protocol", PROTOCOL_VERSION)
        if version != PROTOCOL_VERSION:
            raise ProtocolError("unsupported_protocol", f"server speaks protocol {PROTOCOL_VERSION}")
    return ClientMessage(kind, data)


def check_audio_frame(frame: bytes, max_bytes: int) -> None:
    if len(frame) == 0:
        raise ProtocolError("bad_audio", "empty audio frame")
    if len(frame) % 2:
        raise ProtocolError("bad_audio", "audio frame has an odd number of bytes (PCM16 expected)")
    if len(frame) > max_bytes:
        raise ProtocolError("too_large", f"audio frame larger than {max_bytes} bytes")


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, **fields}
