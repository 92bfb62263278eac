"""The OpenAI Realtime API's events, as this app sends and reads them (no socket here).

Client events are built as JSON text. Server events are read into a few typed events,
the ones a session acts on; any other known type is ``Other`` (counted, no harm), and a
message that is not a JSON object with a string ``type``, or a known event missing what
it must carry, is ``Malformed``: the receiver logs and counts it and goes on (one bad
message must never end the loop). Both names of the audio events are read: the beta's
``response.audio.delta`` and the later ``response.output_audio.delta``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from core.providers.speech.common import Malformed, Other, pcm16

SAMPLE_RATE = 24_000  # PCM16 mono, both ways


@dataclass(frozen=True)
class ResponseCreated:
    response_id: str


@dataclass(frozen=True)
class AudioDelta:
    response_id: str
    item_id: str
    pcm: bytes  # PCM16 at SAMPLE_RATE


@dataclass(frozen=True)
class ReplyTranscriptDelta:
    response_id: str
    text: str


@dataclass(frozen=True)
class InputTranscript:
    """What the person said, as the API's own transcription heard it."""

    item_id: str
    text: str


@dataclass(frozen=True)
class ResponseDone:
    response_id: str
    status: str  # "completed", "cancelled", "failed", "incomplete"


@dataclass(frozen=True)
class ApiError:
    code: str
    message: str


ServerEvent = (ResponseCreated | AudioDelta | ReplyTranscriptDelta | InputTranscript | ResponseDone | ApiError
               | Other | Malformed)

AUDIO_DELTA = ("response.audio.delta", "response.output_audio.delta")
TRANSCRIPT_DELTA = ("response.audio_transcript.delta", "response.output_audio_transcript.delta")


def _text(event: dict[str, Any], *path: str) -> str:
    """A string at ``path`` in the event (``KeyError`` or ``TypeError`` when it is not one)."""
    value: Any = event
    for key in path:
        value = value[key]
    if not isinstance(value, str):
        raise TypeError(f"{'.'.join(path)} is not a string")
    return value


def parse(message: str | bytes) -> ServerEvent:
    try:
        event = json.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        return Malformed(f"not JSON: {type(exc).__name__}")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return Malformed("not an object with a string 'type'")
    kind = event["type"]
    try:
        if kind in AUDIO_DELTA:
            return AudioDelta(_text(event, "response_id"), _text(event, "item_id"), pcm16(event["delta"]))
        if kind in TRANSCRIPT_DELTA:
            return ReplyTranscriptDelta(_text(event, "response_id"), _text(event, "delta"))
        if kind == "response.created":
            return ResponseCreated(_text(event, "response", "id"))
        if kind == "response.done":
            return ResponseDone(_text(event, "response", "id"), _text(event, "response", "status"))
        if kind == "conversation.item.input_audio_transcription.completed":
            return InputTranscript(_text(event, "item_id"), _text(event, "transcript"))
        if kind == "error":
            error = event["error"]
            code = error.get("code") or error.get("type") or "error"
            return ApiError(str(code), str(error.get("message") or ""))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        return Malformed(f"{kind}: {type(exc).__name__}: {exc}")
    return Other(kind)


def _event(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, separators=(",", ":"))


def session_update(instructions: str, voice: str, server_vad: bool, transcription_model: str) -> str:
    """The session as this app runs it: audio in and out as PCM16 at 24 kHz, the person's
    words transcribed, and turns taken by the API's own detection only when asked
    (otherwise the app commits each turn itself)."""
    return _event("session.update", session={
        "modalities": ["audio", "text"],
        "instructions": instructions,
        "voice": voice,
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "input_audio_transcription": {"model": transcription_model},
        "turn_detection": {"type": "server_vad"} if server_vad else None,
    })


def append(pcm: bytes) -> str:
    """The person's audio, PCM16 at 24 kHz."""
    return _event("input_audio_buffer.append", audio=base64.b64encode(pcm).decode("ascii"))


def commit() -> str:
    return _event("input_audio_buffer.commit")


def respond() -> str:
    return _event("response.create")


def cancel(response_id: str) -> str:
    return _event("response.cancel", response_id=response_id)


def truncate(item_id: str, heard_ms: int) -> str:
    """The reply's item cut at what the person heard: the API's context keeps only that."""
    return _event("conversation.item.truncate", item_id=item_id, content_index=0,
                  audio_end_ms=max(0, heard_ms))
