"""The embedded models on real audio: no fakes."""

from __future__ import annotations

import threading

import pytest

from core.processor import TurnProcessor, TurnRequest, TurnTimings
from core.providers.base import ProviderError
from monitoring.voice_client import read_wav_16k_mono
from tests.conftest import FIXTURES

pytestmark = pytest.mark.models


def test_beckett_transcribes_to_fail_better(real_providers) -> None:
    text = real_providers.stt.transcribe(read_wav_16k_mono(FIXTURES / "beckett.wav"))
    assert "fail better" in text.lower()
    assert "try again" in text.lower()


def test_silence_transcribes_to_nothing_much(real_providers) -> None:
    text = real_providers.stt.transcribe(b"\x00\x00" * 16000)
    assert len(text.split()) <= 2


class CollectingSink:
    def __init__(self) -> None:
        self.transcript: str | None = None
        self.sentences: list[str] = []
        self.audio = bytearray()
        self.sample_rate = 0
        self.error: ProviderError | None = None
        self.done = threading.Event()
        self.timings: TurnTimings | None = None

    def is_current(self, turn: int) -> bool:
        return True

    def on_transcript(self, turn: int, text: str) -> None:
        self.transcript = text

    def on_reply_text(self, turn: int, text: str) -> None:
        self.sentences.append(text)

    def on_reply_audio(self, turn: int, pcm16: bytes, sample_rate: int) -> None:
        self.audio += pcm16
        self.sample_rate = sample_rate

    def on_reply_done(self, turn, user_text, reply_text, timings) -> None:
        self.timings = timings
        self.done.set()

    def on_turn_error(self, turn: int, error: ProviderError) -> None:
        self.error = error
        self.done.set()


def test_a_spoken_question_gets_a_text_reply_and_reply_audio(real_providers) -> None:
    processor = TurnProcessor(real_providers, workers=1, backlog=1)
    sink = CollectingSink()
    audio = read_wav_16k_mono(FIXTURES / "question_1.wav")
    processor.submit(TurnRequest(turn=1, history=(), audio=audio), sink)
    assert sink.done.wait(60)
    processor.shutdown()
    assert sink.error is None
    assert "capital" in (sink.transcript or "").lower()
    assert sink.sentences and all(s.strip() for s in sink.sentences)
    assert sink.sample_rate == real_providers.tts.sample_rate
    seconds = len(sink.audio) / 2 / sink.sample_rate
    assert seconds > 0.5
    assert sink.timings is not None and sink.timings.tts_first_audio_ms is not None


def test_llm_reply_is_short_and_plain(real_providers) -> None:
    reply = "".join(real_providers.llm.stream_reply([], "What is the capital of France?"))
    assert "paris" in reply.lower()
    assert "\n" not in reply and "*" not in reply
    assert len(reply.split()) < 40
