"""The OpenAI Realtime API's events as the app reads and writes them, on messages shaped
as the API's reference shows them; bad messages are read as such, never raised."""

from __future__ import annotations

import base64
import json

import pytest

from core.providers.speech import realtime_events as rt
from core.providers.speech.cancelled import CancelledResponses

PCM = b"\x01\x00\xff\x7f" * 4
# Server events in the shape of the API reference's examples.
DOCUMENTED = {
    '{"event_id":"event_2930","type":"response.created","response":{"object":"realtime.response",'
    '"id":"resp_001","status":"in_progress","output":[]}}': rt.ResponseCreated("resp_001"),
    '{"event_id":"event_4950","type":"response.audio.delta","response_id":"resp_001","item_id":"msg_008",'
    f'"output_index":0,"content_index":0,"delta":"{base64.b64encode(PCM).decode()}"}}':
        rt.AudioDelta("resp_001", "msg_008", PCM),
    '{"event_id":"event_4950","type":"response.output_audio.delta","response_id":"resp_002",'
    f'"item_id":"msg_009","output_index":0,"content_index":0,"delta":"{base64.b64encode(PCM).decode()}"}}':
        rt.AudioDelta("resp_002", "msg_009", PCM),
    '{"event_id":"event_4546","type":"response.audio_transcript.delta","response_id":"resp_001",'
    '"item_id":"msg_008","output_index":0,"content_index":0,"delta":"Hello, how can I a"}':
        rt.ReplyTranscriptDelta("resp_001", "Hello, how can I a"),
    '{"event_id":"event_2122","type":"conversation.item.input_audio_transcription.completed",'
    '"item_id":"msg_003","content_index":0,"transcript":"Hello, how are you?"}':
        rt.InputTranscript("msg_003", "Hello, how are you?"),
    '{"event_id":"event_3132","type":"response.done","response":{"object":"realtime.response",'
    '"id":"resp_001","status":"completed","output":[]}}': rt.ResponseDone("resp_001", "completed"),
    '{"event_id":"event_890","type":"error","error":{"type":"invalid_request_error",'
    '"code":"invalid_event","message":"The \'type\' field is missing.","param":null,"event_id":"event_567"}}':
        rt.ApiError("invalid_event", "The 'type' field is missing."),
    '{"event_id":"event_5758","type":"rate_limits.updated","rate_limits":[]}':
        rt.Other("rate_limits.updated"),
    '{"event_id":"event_1","type":"a.future.event"}': rt.Other("a.future.event"),
}


@pytest.mark.parametrize(("message", "expected"), list(DOCUMENTED.items()))
def test_documented_server_events_are_read(message: str, expected: rt.ServerEvent) -> None:
    assert rt.parse(message) == expected


@pytest.mark.parametrize("message", [
    "not json", b"\xff\xfe", "[1, 2]", '{"type": 5}', "{}",
    '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"!!not base64!!"}',
    '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"AAAA"}',  # (3 bytes)
    '{"type":"response.audio.delta","item_id":"i","delta":""}',
    '{"type":"response.created","response":null}',
    '{"type":"response.done","response":{"id":7,"status":"completed"}}',
    '{"type":"error","error":"no object"}',
])
def test_a_bad_message_is_read_as_malformed_and_never_raises(message: str | bytes) -> None:
    assert isinstance(rt.parse(message), rt.Malformed)


def test_client_events_are_the_documented_shapes() -> None:
    update = json.loads(rt.session_update("Be brief.", "alloy", server_vad=False,
                                          transcription_model="whisper-1"))
    assert update["type"] == "session.update" and update["session"]["turn_detection"] is None
    assert update["session"]["input_audio_format"] == update["session"]["output_audio_format"] == "pcm16"
    assert json.loads(rt.session_update("", "alloy", True, "whisper-1"))["session"]["turn_detection"] == {
        "type": "server_vad"}
    assert json.loads(rt.append(PCM)) == {"type": "input_audio_buffer.append",
                                          "audio": base64.b64encode(PCM).decode()}
    assert json.loads(rt.commit()) == {"type": "input_audio_buffer.commit"}
    assert json.loads(rt.respond()) == {"type": "response.create"}
    assert json.loads(rt.cancel("resp_001")) == {"type": "response.cancel", "response_id": "resp_001"}
    assert json.loads(rt.truncate("msg_008", 1500)) == {
        "type": "conversation.item.truncate", "item_id": "msg_008", "content_index": 0, "audio_end_ms": 1500}
    assert json.loads(rt.truncate("msg_008", -20))["audio_end_ms"] == 0


def test_late_deltas_of_a_cancelled_response_are_dropped_and_the_set_stays_bounded() -> None:
    cancelled = CancelledResponses(kept=3)
    assert not cancelled.drops("resp_1")  # (made with the session: asked before any cancel)
    cancelled.cancel("resp_1")
    assert cancelled.drops("resp_1") and cancelled.late_deltas == 1
    for n in range(2, 6):
        cancelled.cancel(f"resp_{n}")
    assert len(cancelled) == 3 and "resp_1" not in cancelled and "resp_5" in cancelled
    cancelled.cancel("resp_3")  # again: the newest now
    cancelled.cancel("resp_6")
    assert "resp_3" in cancelled and "resp_4" not in cancelled
