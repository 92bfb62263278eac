"""The OpenAI Realtime API's side of a connection, as its reference lays the events out:
``session.created``; ``session.update`` → ``session.updated``; ``input_audio_buffer.append``
… ``commit`` → ``input_audio_buffer.committed``, ``conversation.item.created`` and the
input transcription; ``response.create`` → ``response.created``, ``response.audio.delta``
with ``response.audio_transcript.delta``, ``response.audio.done``, ``response.done``;
``response.cancel`` → ``response.done`` (cancelled); ``conversation.item.truncate`` →
``conversation.item.truncated``."""

from __future__ import annotations

import base64
import json
from itertools import count
from typing import Any

from monitoring.servers.speech.faults import Fault
from monitoring.servers.speech.script import Script, Streaming

_ids = count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


def _where(answer: Streaming) -> dict[str, Any]:
    return {"response_id": answer.response_id, "item_id": answer.item_id, "output_index": 0,
            "content_index": 0}


class OpenAIScript(Script):
    def opened(self) -> None:
        self.audio = bytearray()
        self.heard = ""
        self._emit("session.created", session={"id": _id("sess"), "object": "realtime.session"})

    def _emit(self, kind: str, **fields: Any) -> None:
        self.ws.send(json.dumps({"event_id": _id("event"), "type": kind, **fields}))

    def _error(self, code: str, message: str) -> None:
        self._emit("error", error={"type": "invalid_request_error", "code": code, "message": message})

    def take(self, message: str | bytes) -> None:
        try:
            event = json.loads(message)
            kind = str(event["type"])
        except (ValueError, KeyError, TypeError):
            self._error("invalid_json", "The message could not be read.")
            return
        self.stand_in.record.received[kind] += 1
        if kind == "session.update":
            self._emit("session.updated", session=event.get("session", {}))
        elif kind == "input_audio_buffer.append":
            self.audio += base64.b64decode(event["audio"])
        elif kind == "input_audio_buffer.commit":
            self._committed()
        elif kind == "conversation.item.create":
            item = event["item"]
            self.heard = " ".join(c.get("text", "") for c in item.get("content", []))
            self._emit("conversation.item.created", item={"id": _id("item"), **item})
        elif kind == "response.create":
            self._respond()
        elif kind == "response.cancel":
            answer = self.answer
            if answer is None or answer.response_id != event.get("response_id", answer.response_id):
                self._error("response_cancel_not_active", "Cancellation failed: no active response found")
            self.cancel()
        elif kind == "conversation.item.truncate":
            self.stand_in.record.truncations.append((event["item_id"], int(event["audio_end_ms"])))
            self._emit("conversation.item.truncated", item_id=event["item_id"], content_index=0,
                       audio_end_ms=event["audio_end_ms"])
        else:
            self._error("unknown_event", f"Unknown event type {kind[:40]}")

    def _committed(self) -> None:
        item_id = _id("item")
        self.stand_in.record.heard_bytes.append(len(self.audio))
        heard_ms = len(self.audio) // 48
        self.audio = bytearray()
        self._emit("input_audio_buffer.committed", previous_item_id=None, item_id=item_id)
        content = [{"type": "input_audio", "transcript": None}]
        self._emit("conversation.item.created", item={"id": item_id, "type": "message", "role": "user",
                                                      "content": content})
        self.heard = f"{heard_ms} ms of speech"
        self._emit("conversation.item.input_audio_transcription.completed", item_id=item_id, content_index=0,
                   transcript=self.heard)

    def _respond(self) -> None:
        if self.answer is not None:
            self._error("conversation_already_has_active_response",
                        "Conversation already has an active response")
            return
        answer = self.start_answer(_id("resp"), _id("item"), self.heard)
        if answer.fault is Fault.RATE_LIMIT:
            self.answer = None
            self._emit("error", error={"type": "rate_limit_error", "code": "rate_limit_exceeded",
                                       "message": "Rate limit reached for requests. Please try again in 1s."})
            return
        self._emit("response.created", response={"id": answer.response_id, "object": "realtime.response",
                                                  "status": "in_progress", "output": []})
        self._emit("response.output_item.added", response_id=answer.response_id, output_index=0,
                   item={"id": answer.item_id, "type": "message", "role": "assistant", "content": []})

    def misbehave(self, answer: Streaming) -> None:
        if answer.fault is Fault.UNKNOWN_EVENT:
            self._emit("response.made_up_event", response_id=answer.response_id)
        elif answer.fault is Fault.MALFORMED:
            self.ws.send("{not json")
            self._emit("response.audio.delta", delta="AAAA")  # no response_id, no item_id

    def send_piece(self, answer: Streaming, pcm: bytes, words: str) -> None:
        where = _where(answer)
        self._emit("response.audio.delta", **where, delta=base64.b64encode(pcm).decode("ascii"))
        if words:
            self._emit("response.audio_transcript.delta", **where, delta=words)

    def finish(self, answer: Streaming, status: str) -> None:
        where = _where(answer)
        if status == "completed":
            self._emit("response.audio.done", **where)
            self._emit("response.audio_transcript.done", **where, transcript=" ".join(answer.words))
        self._emit("response.done", response={"id": answer.response_id, "object": "realtime.response",
                                              "status": status, "output": []})
