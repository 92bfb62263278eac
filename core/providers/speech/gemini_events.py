"""The Gemini Live API's messages, as this app sends and reads them (no socket here).

One server message may carry several things at once (audio of the model's turn and its
end; a transcription beside audio), so a message is read into a list of events. A
message that is not a JSON object, or a known part without what it must carry, is
``Malformed``; a part this app does not use (usage figures, tool calls) is ``Other``.
The app takes the turns itself: the setup turns the API's own activity detection off,
and each turn is bracketed by ``activityStart`` / ``activityEnd``.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from core.providers.speech.common import Malformed, Other, pcm16

INPUT_RATE = 16_000
OUTPUT_RATE = 24_000


@dataclass(frozen=True)
class SetupComplete:
    pass


@dataclass(frozen=True)
class ModelAudio:
    pcm: bytes  # PCM16 mono
    sample_rate: int


@dataclass(frozen=True)
class InputText:
    """What the person said, as the API's transcription heard it (a piece of it)."""

    text: str


@dataclass(frozen=True)
class OutputText:
    text: str


@dataclass(frozen=True)
class Interrupted:
    pass


@dataclass(frozen=True)
class TurnComplete:
    pass


@dataclass(frozen=True)
class GoAway:
    """The server will close the connection soon: a new session should be made."""

    time_left_s: float


@dataclass(frozen=True)
class ResumptionHandle:
    handle: str


GeminiEvent = (SetupComplete | ModelAudio | InputText | OutputText | Interrupted | TurnComplete | GoAway
               | ResumptionHandle | Other | Malformed)
_RATE = re.compile(r"rate=(\d+)")


def _audio(part: dict[str, Any]) -> ModelAudio | None:
    inline = part.get("inlineData")
    if not isinstance(inline, dict):
        return None
    mime = str(inline.get("mimeType", ""))
    if not mime.startswith("audio/pcm"):
        return None
    rate = _RATE.search(mime)
    return ModelAudio(pcm16(inline["data"]), int(rate.group(1)) if rate else OUTPUT_RATE)


def _server_content(content: dict[str, Any]) -> list[GeminiEvent]:
    events: list[GeminiEvent] = []
    if "inputTranscription" in content:
        events.append(InputText(str(content["inputTranscription"].get("text", ""))))
    turn = content.get("modelTurn")
    if turn is not None:
        for part in turn["parts"]:
            audio = _audio(part)
            if audio is not None:
                events.append(audio)
    if "outputTranscription" in content:
        events.append(OutputText(str(content["outputTranscription"].get("text", ""))))
    if content.get("interrupted"):
        events.append(Interrupted())
    if content.get("turnComplete"):
        events.append(TurnComplete())
    return events


def parse(message: str | bytes) -> list[GeminiEvent]:
    try:
        data = json.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        return [Malformed(f"not JSON: {type(exc).__name__}")]
    if not isinstance(data, dict) or not data:
        return [Malformed("not an object with a message in it")]
    events: list[GeminiEvent] = []
    for kind, body in data.items():
        try:
            if kind == "setupComplete":
                events.append(SetupComplete())
            elif kind == "serverContent":
                events.extend(_server_content(body))
            elif kind == "goAway":
                events.append(GoAway(float(str(body.get("timeLeft", "0s")).rstrip("s") or 0)))
            elif kind == "sessionResumptionUpdate":
                if body.get("resumable") and body.get("newHandle"):
                    events.append(ResumptionHandle(str(body["newHandle"])))
            else:
                events.append(Other(kind))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            events.append(Malformed(f"{kind}: {type(exc).__name__}: {exc}"))
    return events


def _message(**fields: Any) -> str:
    return json.dumps(fields, separators=(",", ":"))


def setup(model: str, instructions: str, voice: str, handle: str | None = None) -> str:
    """The first message of a session: audio answers, both sides transcribed, the app's
    own turn-taking (the API's activity detection off); ``handle`` resumes a session."""
    config: dict[str, Any] = {
        "model": model,
        "generationConfig": {"responseModalities": ["AUDIO"],
                             "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice}}}},
        "systemInstruction": {"parts": [{"text": instructions}]},
        "realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}},
        "inputAudioTranscription": {},
        "outputAudioTranscription": {},
        "sessionResumption": {"handle": handle} if handle else {},
    }
    return _message(setup=config)


def audio(pcm: bytes) -> str:
    """The person's audio, PCM16 at 16 kHz."""
    return _message(realtimeInput={"audio": {"data": base64.b64encode(pcm).decode("ascii"),
                                             "mimeType": f"audio/pcm;rate={INPUT_RATE}"}})


def activity_start() -> str:
    return _message(realtimeInput={"activityStart": {}})


def activity_end() -> str:
    """The person's turn is over: the model answers."""
    return _message(realtimeInput={"activityEnd": {}})
