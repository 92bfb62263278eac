"""A session's provider calls on the shared pools: each comes back as a typed result, a
call refused for want of a worker fails at once, a cancelled turn stops delivering."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from core.conversation.commands import Generate
from core.conversation.results import (
    JobFailed,
    JobResult,
    ReplyEnded,
    ReplyPiece,
    SpeechChunk,
    SpeechEnded,
    Transcribed,
)
from core.session.model_workers import ModelWorkers
from core.session.turn_jobs import TurnJobs
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.wait import wait_until


class Results:
    def __init__(self) -> None:
        self.items: list[JobResult] = []
        self._cond = threading.Condition()

    def __call__(self, result: JobResult) -> None:
        with self._cond:
            self.items.append(result)
            self._cond.notify_all()

    def wait_for(self, kind: type, count: int = 1) -> list[JobResult]:
        def found() -> list[JobResult]:
            return [r for r in self.items if isinstance(r, kind)]

        wait_until(lambda: len(found()) >= count, 5, f"{count} {kind.__name__}", self._cond)
        return found()


@pytest.fixture
def workers() -> Iterator[ModelWorkers]:
    pools = ModelWorkers(2, 2)
    yield pools
    pools.shutdown()


def test_a_transcription_comes_back_with_its_job(workers) -> None:
    results = Results()
    jobs = TurnJobs(workers, results, closed=lambda: False, owner="s1")
    assert jobs.transcribe(FakeSTT("hello there"), 7, b"\0\0" * 1600) is None
    assert results.wait_for(Transcribed) == [Transcribed(7, "hello there")]


def test_a_transcription_comes_back_with_the_view_of_its_words(workers) -> None:
    results = Results()
    jobs = TurnJobs(workers, results, closed=lambda: False, owner="s1")
    seen: list[str] = []
    jobs.transcribe(FakeSTT("my sister who lives"), 8, b"\0\0" * 1600,
                    weigh=lambda words: seen.append(words) or 0.03)
    assert results.wait_for(Transcribed) == [Transcribed(8, "my sister who lives", 0.03)]
    assert seen == ["my sister who lives"]


def test_a_failed_view_of_the_words_still_delivers_them(workers) -> None:
    def broken(words: str) -> float:
        raise RuntimeError("model gone")

    results = Results()
    jobs = TurnJobs(workers, results, closed=lambda: False, owner="s1")
    jobs.transcribe(FakeSTT("my sister who lives"), 9, b"\0\0" * 1600, weigh=broken)
    assert results.wait_for(Transcribed) == [Transcribed(9, "my sister who lives", None)]


def test_a_reply_comes_back_in_pieces_then_its_end(workers) -> None:
    results = Results()
    jobs = TurnJobs(workers, results, closed=lambda: False, owner="s1")
    jobs.generate(FakeLLM("Two words."), Generate(3, (), "say two words", None))
    results.wait_for(ReplyEnded)
    assert "".join(r.text for r in results.items if isinstance(r, ReplyPiece)).strip() == "Two words."
    assert results.items[-1] == ReplyEnded(3)


def test_speech_comes_back_sentence_by_sentence_then_its_end(workers) -> None:
    results = Results()
    jobs = TurnJobs(workers, results, closed=lambda: False, owner="s1")
    tts = FakeTTS(chunks=2)
    jobs.speak(tts, 4, "First.")
    jobs.speak(tts, 4, "Second.")
    jobs.end_speech(4)
    results.wait_for(SpeechEnded)
    chunks = [r for r in results.items if isinstance(r, SpeechChunk)]
    assert [(c.turn, c.sentence) for c in chunks] == [(4, 0), (4, 0), (4, 1), (4, 1)]
    assert results.items[-1] == SpeechEnded(4) and tts.sentences == ["First.", "Second."]


def test_a_provider_failure_comes_back_typed(workers) -> None:
    results = Results()
    jobs = TurnJobs(workers, results, closed=lambda: False, owner="s1")
    jobs.transcribe(FakeSTT(fail=True), 9, b"\0\0")
    (failed,) = results.wait_for(JobFailed)
    assert (failed.job, failed.turn, failed.retryable, failed.provider) == (9, None, True, "fake-stt")


def test_a_call_that_finds_every_worker_busy_fails_at_once() -> None:
    pools = ModelWorkers(1, 0)
    gate = threading.Event()
    results = Results()
    jobs = TurnJobs(pools, results, closed=lambda: False, owner="s1")
    try:
        jobs.speak(FakeTTS(chunks=2, gate=gate), 1, "Holds the only speech worker.")
        refused = jobs.speak(FakeTTS(), 2, "Finds none.")
        assert isinstance(refused, JobFailed) and (refused.turn, refused.retryable) == (2, True)
        assert not [r for r in results.items if isinstance(r, JobFailed)]  # not delivered: returned
    finally:
        gate.set()
        jobs.clear()  # (the held task waits for more sentences until its turn is cancelled)
        pools.shutdown()


def test_a_cancelled_turn_stops_delivering_and_its_transcription_can_be_dropped(workers) -> None:
    results = Results()
    gate = threading.Event()
    jobs = TurnJobs(workers, results, closed=lambda: False, owner="s1")
    tts = FakeTTS(chunks=5, gate=gate, free_chunks=1)
    jobs.speak(tts, 5, "A long sentence.")
    results.wait_for(SpeechChunk)
    jobs.cancel(5)
    gate.set()
    wait_until(lambda: tts.produced >= 2, 5, "the worker to see the cancel")
    assert len([r for r in results.items if isinstance(r, SpeechChunk)]) == 1
    assert not [r for r in results.items if isinstance(r, SpeechEnded)]
    jobs.drop_transcription(42)  # (unknown jobs are fine)
    jobs.clear()
