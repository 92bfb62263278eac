"""The speech-to-speech providers a session may choose, each a ``LiveConversation`` per
session over the chosen API's dialect."""

from __future__ import annotations

from core.providers.base import Message
from core.providers.speech.base import Listener, SpeechConversation, SpeechProvider
from core.providers.speech.choice import SpeechChoice
from core.providers.speech.dialect import Dialect
from core.providers.speech.gemini_live import GeminiLive
from core.providers.speech.live import LiveConversation, SpeechTimings
from core.providers.speech.openai_realtime import OpenAIRealtime
from core.settings import Settings

INSTRUCTIONS = (
    "You are Sam, a friendly voice assistant talking with a person out loud. Answer in one "
    "to three short spoken sentences, with no lists and no symbols, in {language}."
)


class LiveSpeech(SpeechProvider):
    def __init__(self, dialect: Dialect, timings: SpeechTimings) -> None:
        self._dialect = dialect
        self._timings = timings
        self.name = dialect.name
        self.output_rate = dialect.output_rate

    def open(self, instructions: str, history: tuple[Message, ...], listener: Listener) -> SpeechConversation:
        return LiveConversation(self._dialect, instructions, history, listener, self._timings)


def speech_provider(choice: SpeechChoice, s: Settings) -> SpeechProvider | None:
    """The provider ``choice`` names (None when speech-to-speech is off)."""
    if not choice.on:
        return None
    dialect_type = OpenAIRealtime if choice.kind == "openai-realtime" else GeminiLive
    dialect = dialect_type(choice.url(s), choice.key(s), choice.model_name(), choice.voice_name())
    return LiveSpeech(dialect, SpeechTimings(response_timeout_s=s.speech_response_timeout_s))
