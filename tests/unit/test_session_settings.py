"""A person's own settings: checked, applied to their session only, without a reload."""

from __future__ import annotations

import json

import pytest

from core.conversation.config import EngineConfig
from core.errors import ClientError
from core.session.session_settings import SessionSettings, updated
from core.settings import Settings
from tests.support.timeline import Timeline

SETTINGS = Settings()
DEFAULT = SessionSettings.defaults(SETTINGS)


@pytest.mark.parametrize("data", [
    {"vad_aggressiveness": 4}, {"vad_aggressiveness": "2"}, {"vad_aggressiveness": True},
    {"patience": "forever"}, {"max_sentences": 0}, {"max_sentences": 9},
    {"voice": "x"}, {"patience": "quick", "volume": 3},
])
def test_bad_settings_are_refused_by_name_and_nothing_applies(data) -> None:
    with pytest.raises(ClientError) as refused:
        updated(DEFAULT, {"type": "settings", **data}, SETTINGS)
    assert refused.value.code == "invalid_message"
    assert any(str(key) in str(refused.value) for key in data)


def test_patience_scales_every_end_of_turn_wait() -> None:
    base = EngineConfig()
    quick = updated(DEFAULT, {"patience": "quick", "max_sentences": 1}, SETTINGS).engine_config(base)
    assert quick.commit_after_ms == round(base.commit_after_ms * 0.7)
    assert quick.min_reply_gap_ms == round(base.min_reply_gap_ms * 0.7)
    assert quick.commit_unfinished_ms == round(base.commit_unfinished_ms * 0.7)
    assert quick.max_sentences == 1


def test_a_quick_setting_answers_sooner_on_the_timeline() -> None:
    normal = Timeline().say(0.51, 2.01, "tell me about the weather").run(6.0)
    config = updated(DEFAULT, {"patience": "quick"}, SETTINGS).engine_config(EngineConfig())
    quick = Timeline(config=config).say(0.51, 2.01, "tell me about the weather").run(6.0)
    assert normal.first("speech_stopped").at == 2010 + 450
    assert 2010 + 315 <= quick.first("speech_stopped").at < 2010 + 315 + 30  # the next frame
    assert quick.audio(turn=1)[0].at < normal.audio(turn=1)[0].at


def test_the_session_acknowledges_settings_and_refuses_bad_ones(make_harness) -> None:
    h = make_harness()
    h.handle_text(json.dumps({"type": "settings", "patience": "patient", "vad_aggressiveness": 3}))
    applied = h.sent.wait_event("settings_applied")
    assert applied["settings"] | {"vad_aggressiveness": 3, "patience": "patient", "max_sentences": 3} == (
        applied["settings"])
    assert applied["providers"] == {"stt": "fake-stt", "llm": "fake-llm", "tts": "fake-tts"}
    h.handle_text(json.dumps({"type": "settings", "patience": "sometimes"}))
    error = h.sent.wait_event("error", code="invalid_message")
    assert "patience" in error["message"]
    assert h.session._engine.config.commit_after_ms == round(450 * 1.5)  # still "patient"
