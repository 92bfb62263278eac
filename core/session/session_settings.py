"""What a person may change for their own session from the page, and how it applies.

The server's settings are the defaults; a ``settings`` message overrides some of them
for one session, at any time, without a reload. Every value is checked: a bad one is
refused with a message that names it, and nothing of that message is applied.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.audio.segmenter import SegmenterConfig
from core.conversation.config import EngineConfig
from core.errors import ClientError
from core.providers.choice import FIELDS as PROVIDER_FIELDS
from core.providers.choice import ProviderChoice, updated_choice
from core.providers.speech.choice import FIELDS as SPEECH_FIELDS
from core.providers.speech.choice import SpeechChoice, updated_speech
from core.settings import Settings

# End-of-turn patience: how long the silences that end a turn are, relative to the
# server's settings. "quick" answers sooner but cuts into longer pauses.
PATIENCE = {"quick": 0.7, "normal": 1.0, "patient": 1.5}
MAX_SENTENCES_RANGE = (1, 5)
# A speech-to-speech answer is as long as the API makes it: its text is shown and kept
# whole (the API is asked for short answers), so the sentence limit is the engine's last guard.
SPEECH_MAX_SENTENCES = 12


@dataclass(frozen=True)
class SessionSettings:
    vad_aggressiveness: int  # webrtcvad mode: 0 hears the most, 3 the least
    patience: str = "normal"
    max_sentences: int = 3
    providers: ProviderChoice = dataclasses.field(default_factory=ProviderChoice)
    speech: SpeechChoice = dataclasses.field(default_factory=SpeechChoice)

    @classmethod
    def defaults(cls, settings: Settings) -> SessionSettings:
        """What a session starts with: the server's settings."""
        return cls(vad_aggressiveness=settings.vad_aggressiveness,
                   max_sentences=settings.max_reply_sentences,
                   providers=ProviderChoice.defaults(settings), speech=SpeechChoice.defaults(settings))

    def engine_config(self, base: EngineConfig) -> EngineConfig:
        """``base`` with this person's patience and reply length; with a speech-to-speech
        API, no answer prepared ahead (it would be the API's, spoken into its context)."""
        scale = PATIENCE[self.patience]
        speech = self.speech.on
        return dataclasses.replace(
            base,
            commit_after_ms=round(base.commit_after_ms * scale),
            commit_done_ms=round(base.commit_done_ms * scale),
            commit_unfinished_ms=round(base.commit_unfinished_ms * scale),
            min_reply_gap_ms=round(base.min_reply_gap_ms * scale),
            max_sentences=SPEECH_MAX_SENTENCES if speech else self.max_sentences,
            speculative_reply=base.speculative_reply and not speech,
        )

    def as_event(self) -> dict[str, Any]:
        return {"vad_aggressiveness": self.vad_aggressiveness, "patience": self.patience,
                "max_sentences": self.max_sentences, **self.providers.as_event(), **self.speech.as_event()}


def updated(current: SessionSettings, data: dict[str, Any], settings: Settings) -> SessionSettings:
    """``current`` with the fields of a ``settings`` message; raises ``ClientError``."""
    changes: dict[str, Any] = {}
    provider_changes: dict[str, Any] = {}
    speech_changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "type":
            continue
        if key in PROVIDER_FIELDS:
            provider_changes[key] = value
            continue
        if key in SPEECH_FIELDS:
            speech_changes[key] = value
            continue
        if key == "vad_aggressiveness":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3:
                raise ClientError("invalid_message", "vad_aggressiveness must be 0, 1, 2 or 3")
        elif key == "patience":
            if value not in PATIENCE:
                raise ClientError("invalid_message", f"patience must be one of {', '.join(PATIENCE)}")
        elif key == "max_sentences":
            low, high = MAX_SENTENCES_RANGE
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ClientError("invalid_message", f"max_sentences must be {low} to {high}")
        else:
            raise ClientError("invalid_message", f"unknown setting {str(key)[:40]!r}")
        changes[key] = value
    if provider_changes:
        changes["providers"] = updated_choice(current.providers, provider_changes, settings)
    if speech_changes:
        changes["speech"] = updated_speech(current.speech, speech_changes, settings)
    return dataclasses.replace(current, **changes)


def segmenter_config(s: Settings) -> SegmenterConfig:
    return SegmenterConfig(
        start_frames=s.vad_start_frames,
        start_window=s.vad_start_window,
        end_silence_ms=s.vad_end_silence_ms,
        hangover_ms=s.vad_hangover_ms,
        pre_roll_ms=s.vad_pre_roll_ms,
        min_utterance_ms=s.vad_min_utterance_ms,
        min_word_ms=s.vad_min_word_ms,
        max_utterance_ms=s.vad_max_utterance_ms,
        aggressiveness=s.vad_aggressiveness,
        speculate_after_ms=s.vad_speculate_after_ms,
        neural=s.vad_neural,
    )
