"""OpenAI-compatible and edge-tts providers against stand-ins on 127.0.0.1 (no network)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
import numpy as np
import pytest

from core.providers.base import Message, ProviderError
from core.providers.remote.async_runner import AsyncRunner
from core.providers.remote.edge import EDGE_OUTPUT_RATE, EdgeTTS, decode_mp3
from core.providers.remote.openai_llm import OpenAILLM
from core.providers.remote.openai_stt import OpenAISTT
from core.providers.remote.openai_tts import OpenAITTS
from tests.support.openai_stub import FakeOpenAIHandler


def test_openai_llm_streams_pieces_and_sends_the_history(openai_server: str) -> None:
    llm = OpenAILLM(openai_server, "", "test-model", timeout_s=5)
    history = [Message("user", "hi"), Message("assistant", "hello")]
    assert "".join(llm.stream_reply(history, "capital of France?")) == "Paris is the capital."
    sent = FakeOpenAIHandler.seen[0]
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["stream"] is True and sent["model"] == "test-model"
    llm.close()


def test_openai_stt_uploads_wav_and_trims_text(openai_server: str) -> None:
    stt = OpenAISTT(openai_server, "key", "whisper-1", timeout_s=5)
    assert stt.transcribe(b"\x00\x00" * 1600) == "hello there"
    stt.close()


def test_openai_tts_yields_whole_samples(openai_server: str) -> None:
    tts = OpenAITTS(openai_server, "", "tts-1", "alloy", timeout_s=5)
    chunks = list(tts.synthesize("Hello."))
    assert sum(len(c) for c in chunks) == 9602 and all(len(c) % 2 == 0 for c in chunks)
    assert tts.sample_rate == 24_000
    tts.close()


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (429, True), (401, False), (400, False)])
def test_server_errors_become_typed_provider_errors(openai_server: str, status: int,
                                                    retryable: bool) -> None:
    FakeOpenAIHandler.status = status
    llm = OpenAILLM(openai_server, "", "m", timeout_s=5)
    with pytest.raises(ProviderError) as error:
        list(llm.stream_reply([], "hi"))
    assert error.value.retryable is retryable
    assert str(status) in str(error.value)


def test_a_redirect_is_not_followed_with_the_key(openai_server: str) -> None:
    FakeOpenAIHandler.redirect = True
    try:
        llm = OpenAILLM(openai_server, "sk-secret", "m", timeout_s=5)
        with pytest.raises(ProviderError) as error:
            list(llm.stream_reply([], "hi"))
        llm.close()
    finally:
        FakeOpenAIHandler.redirect = False
    assert "307" in str(error.value) and not error.value.retryable
    assert FakeOpenAIHandler.keys == ["sk-secret"]  # asked once: the key went nowhere else


def test_unreachable_server_is_a_retryable_error() -> None:
    stt = OpenAISTT("http://127.0.0.1:9/v1", "", "whisper-1", timeout_s=2)
    with pytest.raises(ProviderError) as error:
        stt.transcribe(b"\x00\x00" * 160)
    assert error.value.retryable


def mp3_tone(seconds: float = 0.5) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("mp3", rate=24_000, layout="mono")
        samples = (np.sin(np.arange(int(24_000 * seconds)) / 10) * 10_000).astype("<i2")
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.sample_rate = 24_000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue()


class EdgeTTSStandIn(EdgeTTS):
    """edge-tts with the network call replaced by a scripted outcome."""

    def __init__(self, runner: AsyncRunner, outcome: object, timeout_s: float = 2.0) -> None:
        super().__init__("en-US-AriaNeural", runner, timeout_s)
        self.outcome = outcome

    async def _fetch_mp3(self, text: str) -> bytes:
        import asyncio

        if self.outcome == "hang":
            await asyncio.sleep(30)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome  # type: ignore[return-value]


@pytest.fixture
def runner() -> Iterator[AsyncRunner]:
    runner = AsyncRunner()
    yield runner
    runner.stop()


def test_edge_tts_decodes_mp3_to_pcm(runner: AsyncRunner) -> None:
    (pcm,) = list(EdgeTTSStandIn(runner, mp3_tone(0.5)).synthesize("Hello."))
    assert abs(len(pcm) / 2 / EDGE_OUTPUT_RATE - 0.5) < 0.1
    assert decode_mp3(mp3_tone(0.2))


@pytest.mark.parametrize(("outcome", "retryable"), [
    (OSError("no route"), True), ("hang", True), (b"", True), (RuntimeError("boom"), False),
])
def test_edge_tts_failures_are_typed(runner: AsyncRunner, outcome: object, retryable: bool) -> None:
    with pytest.raises(ProviderError) as error:
        list(EdgeTTSStandIn(runner, outcome, timeout_s=0.5).synthesize("Hello."))
    assert error.value.retryable is retryable
