"""The embedded models on real audio: no fakes."""

from __future__ import annotations

import queue
from collections.abc import Callable

import pytest

from core.providers.base import Message
from core.session.model_workers import ModelWorkers, SpeechFeed
from monitoring.clients.voice_client import read_wav_16k_mono
from tests.conftest import FIXTURES

pytestmark = pytest.mark.models


def test_beckett_transcribes_to_fail_better(real_providers) -> None:
    text = real_providers.stt.transcribe(read_wav_16k_mono(FIXTURES / "beckett.wav"))
    assert "fail better" in text.lower()
    assert "try again" in text.lower()


def test_silence_transcribes_to_nothing_much(real_providers) -> None:
    text = real_providers.stt.transcribe(b"\x00\x00" * 16000)
    assert len(text.split()) <= 2


def test_a_spoken_question_gets_a_text_reply_and_reply_audio(real_providers) -> None:
    workers = ModelWorkers(workers=1, backlog=1)
    results: queue.Queue[tuple[str, object]] = queue.Queue()

    def put(kind: str) -> Callable[..., None]:
        return lambda *args: results.put((kind, args))

    def next_result() -> tuple[str, tuple]:
        kind, args = results.get(timeout=60)
        assert kind != "error", args
        return kind, args  # type: ignore[return-value]

    audio = read_wav_16k_mono(FIXTURES / "question_1.wav")
    workers.transcribe(real_providers.stt, audio, put("text"), put("error"), owner="s1")
    _, (heard, _no_view) = next_result()
    assert "capital" in heard.lower()

    workers.generate(real_providers.llm, (), heard, None, put("piece"), put("done"), put("error"),
                     lambda: False, owner="s1")
    reply = ""
    while (item := next_result())[0] == "piece":
        reply += item[1][0]
    assert reply.strip()

    feed = SpeechFeed()
    workers.speak(real_providers.tts, feed, put("audio"), put("spoken"), put("error"), lambda: False,
                  owner="s1")
    feed.put(reply.strip())
    feed.close()
    pcm = bytearray()
    while (item := next_result())[0] == "audio":
        _index, chunk, rate = item[1]
        pcm += chunk
        assert rate == real_providers.tts.sample_rate
    workers.shutdown()
    assert len(pcm) / 2 / real_providers.tts.sample_rate > 0.5


def test_llm_reply_is_short_and_plain(real_providers) -> None:
    reply = "".join(real_providers.llm.stream_reply([], "What is the capital of France?"))
    assert "paris" in reply.lower()
    assert "\n" not in reply and "*" not in reply
    assert len(reply.split()) < 40


def test_the_previous_reply_is_not_repeated_word_for_word(real_providers) -> None:
    first = "".join(real_providers.llm.stream_reply([], "Ever tried."))
    second = "".join(real_providers.llm.stream_reply([], "Ever failed.", avoid=first))
    assert second.strip() and second.strip() != first.strip()


def test_preparing_the_prompt_does_not_change_the_answer(real_providers) -> None:
    llm = real_providers.llm
    history = [Message("user", "Hello, who are you?"), Message("assistant", "I'm Sam.")] * 4
    cold = "".join(llm.stream_reply(history, "How many legs does a spider have?"))
    "".join(llm.stream_reply([], "What is the capital of Italy?"))
    llm.prepare(history)
    warm = "".join(llm.stream_reply(history, "How many legs does a spider have?"))
    assert warm == cold and warm.strip()


def test_the_replies_model_expects_more_after_a_fragment_than_after_a_whole_line(real_providers) -> None:
    """The words of a pause, weighed in a conversation with one exchange so far."""
    history = [Message("user", "Hi."), Message("assistant", "Hello! How was your day?")]
    llm = real_providers.llm
    fragments = ["When we got to the station", "My brother, who works as a nurse", "Even though I was tired"]
    whole = ["It was a long day at work.", "We adopted a puppy last week.", "My train was late again."]
    going_on = [llm.line_ends_here(history, words) for words in fragments]
    ending = [llm.line_ends_here(history, words) for words in whole]
    assert max(going_on) < 0.1 <= min(ending), (going_on, ending)


def test_taking_up_an_offer_gets_it_delivered_and_the_model_goes_on(real_providers) -> None:
    history = [Message("user", "Hi."), Message("assistant", "Would you like a tip for sleeping better?")]
    reply = "".join(real_providers.llm.stream_reply(history, "Okay.")).strip()
    assert reply.startswith("Here's a tip for sleeping better:")
    assert len(reply.removeprefix("Here's a tip for sleeping better:").split()) >= 3, reply
