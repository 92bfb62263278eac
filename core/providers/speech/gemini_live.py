"""The Gemini Live API as a dialect: the app's own turn-taking (the API's activity
detection off; each turn sent between ``activityStart`` and ``activityEnd``), answers in
order without ids. The Live API has no call to cancel or truncate a response: a
talked-over answer's late audio is dropped here, and the next turn's ``activityStart``
interrupts the model; its context keeps what it generated (documented)."""

from __future__ import annotations

import json

from core.providers.base import Message
from core.providers.speech import gemini_events as gm
from core.providers.speech.dialect import (
    Dialect,
    Finished,
    Heard,
    Leaving,
    Opened,
    Resumable,
    Said,
    Step,
    Voice,
    with_history,
)

CHUNK_BYTES = gm.INPUT_RATE  # half a second of audio per message


class GeminiLive(Dialect):
    name = "gemini-live"
    input_rate = gm.INPUT_RATE
    output_rate = gm.OUTPUT_RATE
    names_responses = False

    def __init__(self, base_url: str, api_key: str, model: str, voice: str) -> None:
        named = model if model.startswith("models/") else f"models/{model}"  # (as the API names them)
        super().__init__(base_url, api_key, named, voice)

    def url(self) -> str:
        return self._base_url

    def headers(self) -> list[str]:
        return [f"x-goog-api-key: {self._api_key}"] if self._api_key else []

    def opening(self, instructions: str, history: tuple[Message, ...], handle: str | None) -> list[str]:
        return [gm.setup(self._model, with_history(instructions, history), self._voice, handle)]

    def read(self, message: str | bytes) -> list[Step]:
        steps: list[Step] = []
        for event in gm.parse(message):
            if isinstance(event, gm.ModelAudio):
                steps.append(Voice(None, "", event.pcm, event.sample_rate))
            elif isinstance(event, gm.OutputText):
                steps.append(Said(None, event.text))
            elif isinstance(event, gm.InputText):
                steps.append(Heard(event.text))
            elif isinstance(event, gm.TurnComplete):
                steps.append(Finished(None, "completed"))
            elif isinstance(event, gm.Interrupted):
                steps.append(Finished(None, "cancelled"))
            elif isinstance(event, gm.SetupComplete):
                steps.append(Opened())
            elif isinstance(event, gm.GoAway):
                steps.append(Leaving())
            elif isinstance(event, gm.ResumptionHandle):
                steps.append(Resumable(event.handle))
            else:
                steps.append(event)
        return steps

    def ask(self, audio: bytes | None, text: str | None) -> list[str]:
        if audio:
            pieces = [gm.audio(audio[i:i + CHUNK_BYTES]) for i in range(0, len(audio), CHUNK_BYTES)]
            return [gm.activity_start(), *pieces, gm.activity_end()]
        turns = [{"role": "user", "parts": [{"text": text or ""}]}]
        return [json.dumps({"clientContent": {"turns": turns, "turnComplete": True}}, separators=(",", ":"))]

    def stop(self, response_id: str | None, item_id: str | None, heard_ms: int | None) -> list[str]:
        return []
