"""What the exchange tests share (``tests/unit/test_speech_exchange*.py``): the two
dialects, audio of a given length, and a whole OpenAI answer read at once."""

from __future__ import annotations

import json

from core.providers.speech.base import SpeechEvent
from core.providers.speech.dialect import Began, Finished, Said, Voice
from core.providers.speech.exchange import Exchange
from core.providers.speech.gemini_live import GeminiLive
from core.providers.speech.openai_realtime import OpenAIRealtime

RATE = 24_000
URL = "wss://speech.example.invalid/v1/realtime"


def openai() -> OpenAIRealtime:
    return OpenAIRealtime(URL, "sk-test", "gpt-realtime", "alloy")


def gemini() -> GeminiLive:
    return GeminiLive(URL, "g-test", "gemini-live-2.5-flash-preview", "Puck")


def pcm(ms: int) -> bytes:
    """``ms`` of PCM16 at 24 kHz."""
    return b"\x01\x00" * (RATE * ms // 1000)


def kinds(messages: list[str]) -> list[str]:
    return [json.loads(m)["type"] for m in messages]


def answered(ex: Exchange, turn: int, response_id: str, text: str, ms: int, now: float) -> list[SpeechEvent]:
    """The OpenAI API answers ``turn`` in full: ``ms`` of audio with ``text``, then done."""
    events, _ = ex.read([Began(response_id), Voice(response_id, f"item-{turn}", pcm(ms), RATE),
                         Said(response_id, text), Finished(response_id, "completed")], now)
    return events
