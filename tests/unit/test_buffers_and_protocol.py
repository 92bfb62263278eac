from __future__ import annotations

import json

import pytest

from core.audio.stream_buffer import StreamBuffer
from core.settings import Settings, SettingsError
from core.transport.wire import (
    AUDIO_KIND_CUE,
    AUDIO_KIND_REPLY,
    AudioMessage,
    ClientError,
    decode_reply_audio,
    encode_reply_audio,
    parse_control,
)


def test_stream_buffer_reframes_20ms_frames_into_30ms_frames() -> None:
    buffer = StreamBuffer(capacity_bytes=9600, frame_bytes=960)
    buffer.push(b"\x01" * 640)
    assert buffer.pop_frames() == []
    buffer.push(b"\x02" * 640)
    (frame,) = buffer.pop_frames()
    assert frame == b"\x01" * 640 + b"\x02" * 320
    assert buffer.size == 320


def test_stream_buffer_drops_oldest_audio_when_full() -> None:
    buffer = StreamBuffer(capacity_bytes=1920, frame_bytes=960)
    for value in range(5):
        buffer.push(bytes([value]) * 640)
    frames = buffer.pop_frames()
    assert len(frames) * 960 + buffer.size <= 1920
    assert buffer.dropped_bytes >= 5 * 640 - 1920
    assert frames[-1].endswith(b"\x04" * 320)  # the newest audio survived


def test_reply_audio_header_round_trips() -> None:
    message = encode_reply_audio(7, 22050, b"\x01\x02" * 10)
    assert decode_reply_audio(message) == AudioMessage(7, 22050, AUDIO_KIND_REPLY, b"\x01\x02" * 10)
    cue = encode_reply_audio(8, 16000, b"\x00\x00", AUDIO_KIND_CUE)
    assert decode_reply_audio(cue).kind == AUDIO_KIND_CUE
    with pytest.raises(ClientError):
        decode_reply_audio(b"XX" + message[2:])


@pytest.mark.parametrize(("raw", "code"), [
    ("{", "invalid_json"),
    ("[]", "invalid_message"),
    (json.dumps({"type": "nope"}), "unknown_type"),
    (json.dumps({"type": "text"}), "invalid_message"),
    (json.dumps({"type": "text", "text": "x" * 3000}), "too_large"),
    (json.dumps({"type": "playback_done", "turn": "1"}), "invalid_message"),
    (json.dumps({"type": "hello", "protocol": 9}), "unsupported_protocol"),
])
def test_bad_control_messages_are_named(raw: str, code: str) -> None:
    with pytest.raises(ClientError) as error:
        parse_control(raw)
    assert error.value.code == code


def test_settings_come_from_prefixed_variables_and_are_checked() -> None:
    settings = Settings.from_env({"VOICECHAT_PORT": "9000", "VOICECHAT_VAD_END_SILENCE_MS": "400"})
    assert settings.port == 9000 and settings.vad_end_silence_ms == 400
    assert Settings.from_env({}).host == "127.0.0.1"
    with pytest.raises(SettingsError):
        Settings.from_env({"VOICECHAT_PORT": "eighty"})
    with pytest.raises(SettingsError):
        Settings.from_env({"VOICECHAT_TTS_PROVIDER": "carrier-pigeon"})
    with pytest.raises(SettingsError):
        Settings.from_env({"VOICECHAT_NO_SUCH_THING": "1"})
    with pytest.raises(SettingsError, match="PROBABILITY"):
        Settings.from_env({"VOICECHAT_TURN_FRAGMENT_PROBABILITY": "1.5"}).validate()
    assert Settings.from_env({"VOICECHAT_TURN_WEIGH_WORDS": "off"}).turn_weigh_words is False
