"""The browser protocol's serializer produces docs/protocol.md's examples exactly, and
every event type has one there: the wire format is the documented one."""

from __future__ import annotations

import json

from core.conversation.events import (
    Clear,
    ClearReason,
    ErrorNotice,
    Ignored,
    Phase,
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
)
from core.session.echo_advice import HEADPHONES
from core.session.events import (
    Advice,
    ConversationDeleted,
    Pong,
    ProviderStatusChanged,
    Ready,
    SettingsApplied,
)
from core.transport.wire import EVENT_TYPES, decode_reply_audio, encode_event
from tests.conftest import ROOT

PROVIDERS = {"stt": "whisper-tiny.en", "llm": "gemma3-270m", "tts": "piper-joe"}
EVENTS = [
    Ready(session_id="3f2b9c0d5e6a4b7c8d9e0f1a2b3c4d5e", resume_token="q7X2-example-token",
          resume_window_s=60.0, input_sample_rate=16000, output_sample_rate=22050,
          settings={"vad_aggressiveness": 2, "patience": "normal", "max_sentences": 3},
          providers=PROVIDERS, resumed=False),
    SettingsApplied(settings={"vad_aggressiveness": 3, "patience": "patient", "max_sentences": 3},
                    providers=PROVIDERS, output_sample_rate=22050),
    StateChanged(Phase.THINKING, 4),
    UserSpeechStarted(),
    UserSpeechStopped(212),
    UserSpeechDiscarded(),
    Transcript(4, "What is the capital of France?"),
    ReplyText(4, "Paris.", 0),
    SentenceStart(4, 0),
    Thinking(4),
    ReplyStarted(4, 22050),
    ReplyDone(4, "Paris. It is also its largest city.", {"endpoint_ms": 212.0, "transcript_ms": 96.4}),
    Clear(4, ClearReason.BARGE_IN),
    ReplyResumed(4, 1180),
    Ignored(5, "repeated"),
    ErrorNotice("provider_failed", "The assistant could not answer that; please try again.",
                retryable=True, turn=5, provider="llm"),
    ErrorNotice("not_listening", 'audio ignored: send {"type": "start"} first'),
    Pong(12345),
    ConversationDeleted(stored=True),
    ProviderStatusChanged("llm", "gpt-4o-mini", "gemma3-270m", "fallback",
                          "The answering service (gpt-4o-mini) is not answering; using gemma3-270m for now."),
    Advice("headphones", HEADPHONES),
]


def documented() -> list[str]:
    text = (ROOT / "docs" / "protocol.md").read_text()
    block = text.split("```jsonl\n", 1)[1].split("```", 1)[0]
    return block.strip().splitlines()


def test_each_event_is_serialized_as_documented() -> None:
    assert [encode_event(event) for event in EVENTS] == documented()


def test_every_event_type_is_documented() -> None:
    types = {json.loads(line)["type"] for line in documented()}
    assert types == set(EVENT_TYPES.values())
    assert {type(event) for event in EVENTS} == set(EVENT_TYPES)


def test_reply_audio_is_a_binary_message_with_the_documented_header() -> None:
    payload = encode_event(ReplyAudio(7, b"\x01\x00\x02\x00", 22050))
    assert isinstance(payload, bytes) and payload[:4] == b"VC\x01\x01"
    assert int.from_bytes(payload[4:8], "little") == 7 and int.from_bytes(payload[8:12], "little") == 22050
    assert decode_reply_audio(payload).pcm16 == b"\x01\x00\x02\x00"
