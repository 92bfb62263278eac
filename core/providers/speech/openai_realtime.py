"""The OpenAI Realtime API as a dialect: the app commits each turn itself
(``input_audio_buffer.commit`` + ``response.create``), cancels a talked-over response
(``response.cancel``) and truncates its item at what was heard."""

from __future__ import annotations

import json

from core.providers.base import Message
from core.providers.speech import realtime_events as rt
from core.providers.speech.common import Malformed, Other
from core.providers.speech.dialect import (
    Began,
    Dialect,
    Finished,
    Heard,
    Opened,
    Refused,
    Said,
    Step,
    Voice,
    with_history,
)

CHUNK_BYTES = rt.SAMPLE_RATE * 2  # one second of audio per append
TRANSCRIPTION_MODEL = "whisper-1"


class OpenAIRealtime(Dialect):
    name = "openai-realtime"
    input_rate = rt.SAMPLE_RATE
    output_rate = rt.SAMPLE_RATE
    names_responses = True

    def url(self) -> str:
        joiner = "&" if "?" in self._base_url else "?"
        return f"{self._base_url}{joiner}model={self._model}"

    def headers(self) -> list[str]:
        headers = ["OpenAI-Beta: realtime=v1"]
        return [f"Authorization: Bearer {self._api_key}", *headers] if self._api_key else headers

    def opening(self, instructions: str, history: tuple[Message, ...], handle: str | None) -> list[str]:
        return [rt.session_update(with_history(instructions, history), self._voice, server_vad=False,
                                  transcription_model=TRANSCRIPTION_MODEL)]

    def read(self, message: str | bytes) -> list[Step]:
        event = rt.parse(message)
        if isinstance(event, rt.AudioDelta):
            return [Voice(event.response_id, event.item_id, event.pcm, rt.SAMPLE_RATE)]
        if isinstance(event, rt.ReplyTranscriptDelta):
            return [Said(event.response_id, event.text)]
        if isinstance(event, rt.ResponseCreated):
            return [Began(event.response_id)]
        if isinstance(event, rt.ResponseDone):
            return [Finished(event.response_id, event.status)]
        if isinstance(event, rt.InputTranscript):
            return [Heard(event.text)]
        if isinstance(event, rt.ApiError):
            return [Refused(event.code, event.message)]
        if isinstance(event, Other) and event.kind == "session.updated":
            return [Opened()]
        assert isinstance(event, Other | Malformed)
        return [event]

    def ask(self, audio: bytes | None, text: str | None) -> list[str]:
        if audio:
            pieces = [rt.append(audio[i:i + CHUNK_BYTES]) for i in range(0, len(audio), CHUNK_BYTES)]
            return [*pieces, rt.commit(), rt.respond()]
        item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text or ""}]}
        created = json.dumps({"type": "conversation.item.create", "item": item}, separators=(",", ":"))
        return [created, rt.respond()]

    def stop(self, response_id: str | None, item_id: str | None, heard_ms: int | None) -> list[str]:
        messages = [rt.cancel(response_id)] if response_id is not None else []
        if item_id is not None and heard_ms is not None:
            messages.append(rt.truncate(item_id, heard_ms))
        return messages
