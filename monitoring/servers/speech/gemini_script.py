"""The Gemini Live API's side of a connection, as its reference lays the messages out:
``setup`` → ``setupComplete`` (and a resumption handle); ``realtimeInput`` with
``activityStart``, audio, ``activityEnd`` → ``serverContent`` with the input
transcription, ``modelTurn`` audio parts beside ``outputTranscription``,
``generationComplete`` and ``turnComplete``; an ``activityStart`` during an answer →
``interrupted``. A rate limit closes the socket (1011, RESOURCE_EXHAUSTED), as the Live
API does."""

from __future__ import annotations

import base64
import json
from itertools import count
from typing import Any

from monitoring.servers.speech.faults import Fault
from monitoring.servers.speech.script import Script, Streaming

_handles = count(1)


class GeminiScript(Script):
    def opened(self) -> None:
        self.audio = bytearray()
        self.set_up = False

    def _content(self, **fields: Any) -> None:
        self.ws.send(json.dumps({"serverContent": fields}))

    def take(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
            kind = next(iter(data))
        except (ValueError, TypeError, StopIteration):
            self.ws.close(1007, "Invalid JSON payload")
            return
        self.stand_in.record.received[kind] += 1
        if kind == "setup":
            self.set_up = True
            self.stand_in.record.resumed_with.append(data[kind].get("sessionResumption", {}).get("handle"))
            self.ws.send(json.dumps({"setupComplete": {}}))
            self.ws.send(json.dumps({"sessionResumptionUpdate": {"newHandle": f"handle-{next(_handles)}",
                                                                 "resumable": True}}))
        elif not self.set_up:
            self.ws.close(1007, "setup must be the first message")
        elif kind == "realtimeInput":
            self._input(data[kind])
        elif kind == "clientContent":
            turns = data[kind].get("turns", [])
            heard = " ".join(p.get("text", "") for t in turns for p in t.get("parts", []))
            if data[kind].get("turnComplete"):
                self._respond(heard)

    def _input(self, body: dict[str, Any]) -> None:
        if "activityStart" in body:
            self.audio = bytearray()
            self.cancel()
        elif "audio" in body:
            self.audio += base64.b64decode(body["audio"]["data"])
        elif "activityEnd" in body:
            self.stand_in.record.heard_bytes.append(len(self.audio))
            heard = f"{len(self.audio) // 32} ms of speech"
            self._content(inputTranscription={"text": heard})
            self._respond(heard)

    def _respond(self, heard: str) -> None:
        if self.answer is not None:  # still streaming an interrupted one: it ends now
            self.flush_late(self.answer)
        answer = self.start_answer("", "", heard)
        if answer.fault is Fault.RATE_LIMIT:
            self.answer = None
            self.ws.close(1011, "RESOURCE_EXHAUSTED: quota exceeded, retry later")
            self.dropped = True

    def misbehave(self, answer: Streaming) -> None:
        if answer.fault is Fault.UNKNOWN_EVENT:
            self.ws.send(json.dumps({"madeUpMessage": {"detail": "nothing a client knows"}}))
        elif answer.fault is Fault.MALFORMED:
            self.ws.send("{not json")
            self._content(modelTurn={"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000",
                                                               "data": "!!not base64!!"}}]})

    def send_piece(self, answer: Streaming, pcm: bytes, words: str) -> None:
        inline = {"mimeType": "audio/pcm;rate=24000", "data": base64.b64encode(pcm).decode("ascii")}
        self._content(modelTurn={"parts": [{"inlineData": inline}]})
        if words:
            self._content(outputTranscription={"text": words})

    def finish(self, answer: Streaming, status: str) -> None:
        if status == "cancelled":
            self._content(interrupted=True)
        else:
            self._content(generationComplete=True)
            self._content(turnComplete=True)
            if self.stand_in.go_away:
                self.stand_in.go_away = False
                self.ws.send(json.dumps({"goAway": {"timeLeft": "5s"}}))
