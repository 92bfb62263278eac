"""The Gemini Live API's messages as the app reads and writes them, on messages shaped as
the API's reference shows them; one message may hold several events; bad ones are read
as such, never raised."""

from __future__ import annotations

import base64
import json

import pytest

from core.providers.speech import gemini_events as gl

PCM = b"\x10\x00\xf0\xff" * 3
DATA = base64.b64encode(PCM).decode()
DOCUMENTED = {
    '{"setupComplete":{}}': [gl.SetupComplete()],
    '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000",'
    f'"data":"{DATA}"}}}}]}}}}}}': [gl.ModelAudio(PCM, 24_000)],
    '{"serverContent":{"inputTranscription":{"text":"What time is it"}}}': [gl.InputText("What time is it")],
    '{"serverContent":{"outputTranscription":{"text":"It is"}}}': [gl.OutputText("It is")],
    '{"serverContent":{"interrupted":true}}': [gl.Interrupted()],
    '{"serverContent":{"generationComplete":true}}': [],
    '{"serverContent":{"turnComplete":true},"usageMetadata":{"totalTokenCount":52}}':
        [gl.TurnComplete(), gl.Other("usageMetadata")],
    '{"serverContent":{"modelTurn":{"parts":[{"text":"thinking"},{"inlineData":{"mimeType":"audio/pcm",'
    f'"data":"{DATA}"}}}}]}},"turnComplete":true}}}}': [gl.ModelAudio(PCM, 24_000), gl.TurnComplete()],
    '{"goAway":{"timeLeft":"10s"}}': [gl.GoAway(10.0)],
    '{"sessionResumptionUpdate":{"newHandle":"h-42","resumable":true}}': [gl.ResumptionHandle("h-42")],
    '{"sessionResumptionUpdate":{"resumable":false}}': [],
    '{"toolCall":{"functionCalls":[]}}': [gl.Other("toolCall")],
}


@pytest.mark.parametrize(("message", "expected"), list(DOCUMENTED.items()))
def test_documented_server_messages_are_read(message: str, expected: list[gl.GeminiEvent]) -> None:
    assert gl.parse(message) == expected


@pytest.mark.parametrize("message", [
    "not json", b"\xff", "[]", "{}",
    '{"serverContent":{"modelTurn":{}}}',
    '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm","data":"%%%"}}]}}}',
    '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm","data":"AAAA"}}]}}}',
    '{"goAway":{"timeLeft":"soon"}}',
    '{"serverContent":"text"}',
])
def test_a_bad_message_is_read_as_malformed_and_never_raises(message: str | bytes) -> None:
    events = gl.parse(message)
    assert events and all(isinstance(e, gl.Malformed) for e in events), events


def test_client_messages_take_the_turns_themselves() -> None:
    first = json.loads(gl.setup("models/gemini-live", "Be brief.", "Puck"))["setup"]
    assert first["realtimeInputConfig"] == {"automaticActivityDetection": {"disabled": True}}
    assert first["generationConfig"]["responseModalities"] == ["AUDIO"] and first["sessionResumption"] == {}
    assert "inputAudioTranscription" in first and "outputAudioTranscription" in first
    resumed = json.loads(gl.setup("m", "", "Puck", handle="h-42"))["setup"]
    assert resumed["sessionResumption"] == {"handle": "h-42"}
    assert json.loads(gl.audio(PCM)) == {
        "realtimeInput": {"audio": {"data": DATA, "mimeType": "audio/pcm;rate=16000"}}}
    assert json.loads(gl.activity_start()) == {"realtimeInput": {"activityStart": {}}}
    assert json.loads(gl.activity_end()) == {"realtimeInput": {"activityEnd": {}}}
