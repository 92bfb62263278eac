"""Provider calls on bounded pools, shared by every session of the process.

Three pools: transcription jobs, reply generation (one task per turn, streaming text
pieces) and speech (one task per turn, synthesizing its sentences in order). Results go
to callbacks; every loop checks ``cancelled()`` between steps, so a cancelled turn
stops within one token or one sentence and its task is released. Each call names its
owner (the session): the pools serve owners in turn and bound each one's share
(core/session/workers.py), so one session cannot keep the others waiting.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future

from core.audio.pcm import split_chunks
from core.providers.base import LLMProvider, Message, ProviderError, STTProvider, TTSProvider
from core.session.end_judge import EndJudge
from core.session.workers import FairExecutor, Overloaded

log = logging.getLogger(__name__)

AUDIO_CHUNK_MS = 200
_SENTENCES_PER_TURN = 8
_END = object()
# Jobs one session may have waiting or running in each pool: transcriptions (a
# speculative one and the final one, and one finishing after a cancel), replies and
# speech (the turn's own, and a cancelled one still reaching its next check).
PER_SESSION = {"stt": 3, "llm": 2, "tts": 2}

ErrorCallback = Callable[[ProviderError], None]
Weigh = Callable[[str], float | None]  # the words of a pause → the chance the line ends there


def _weighed(weigh: Weigh, text: str) -> float | None:
    """Only a hint for the wait: a failure is logged and leaves the other evidence to decide."""
    try:
        return weigh(text)
    except Exception as exc:  # noqa: BLE001 - the transcript must still reach the turn
        log.warning("weighing the words failed: %s", as_provider_error("llm", exc))
        return None


def as_provider_error(provider: str, exc: BaseException) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    log.error("%s failed unexpectedly: %s", provider, type(exc).__name__, exc_info=exc)
    return ProviderError(provider, f"unexpected {type(exc).__name__}", retryable=False)


class SpeechFeed:
    """The sentences of one turn, in order, to one synthesis task."""

    def __init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=_SENTENCES_PER_TURN)

    def put(self, sentence: str) -> None:
        # The engine caps a reply at a few sentences, far below the queue's size.
        self._queue.put_nowait(sentence)

    def close(self) -> None:
        self._queue.put_nowait(_END)

    def next(self, cancelled: Callable[[], bool]) -> str | None:
        """The next sentence; None at the end or once the turn is cancelled."""
        while not cancelled():
            try:
                item = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            return None if item is _END else str(item)
        return None


class ModelWorkers:
    """The pools; each call names the provider to use (sessions may choose their own)."""

    def __init__(self, workers: int, backlog: int) -> None:
        self._stt = FairExecutor(workers, backlog, "stt", PER_SESSION["stt"])
        self._llm = FairExecutor(workers, backlog, "llm", PER_SESSION["llm"])
        self._tts = FairExecutor(workers, backlog, "tts", PER_SESSION["tts"])
        self.ends: EndJudge | None = None  # the turn model, once loaded (``VoiceRuntime.warm_up``)

    def shutdown(self) -> None:
        for pool in (self._stt, self._llm, self._tts):
            pool.shutdown()
        if self.ends is not None:
            self.ends.shutdown()

    # ----- transcription --------------------------------------------------------------
    def transcribe(self, stt: STTProvider, audio: bytes, on_text: Callable[[str, float | None], None],
                   on_error: ErrorCallback, *, owner: Hashable, weigh: Weigh | None = None) -> Future[None]:
        """Raises ``Overloaded`` when the pool is full. ``on_text`` gets the words and,
        when ``weigh`` is given, its view of them (None if it has none or failed)."""

        def run() -> None:
            try:
                text = stt.transcribe(audio)
            except Exception as exc:  # noqa: BLE001 - any failure goes to the turn, logged there
                on_error(as_provider_error(stt.name, exc))
                return
            on_text(text, _weighed(weigh, text) if weigh is not None else None)

        return self._stt.submit(owner, run)

    # ----- reply text ---------------------------------------------------------------------
    def generate(self, llm: LLMProvider, history: Sequence[Message], text: str, avoid: str | None,
                 on_piece: Callable[[str], None], on_done: Callable[[], None],
                 on_error: ErrorCallback, cancelled: Callable[[], bool], *, owner: Hashable) -> Future[None]:
        """Raises ``Overloaded`` when the pool is full or ``owner`` has its share in flight."""

        def run() -> None:
            pieces = llm.stream_reply(history, text, avoid=avoid)
            try:
                for piece in pieces:
                    if cancelled():
                        return
                    on_piece(piece)
            except Exception as exc:  # noqa: BLE001 - any failure goes to the turn, logged there
                on_error(as_provider_error(llm.name, exc))
                return
            finally:
                pieces.close()  # type: ignore[attr-defined]
            on_done()

        return self._llm.submit(owner, run)

    def prepare(self, llm: LLMProvider, history: Sequence[Message], *, owner: Hashable) -> None:
        """Let the LLM evaluate the coming prompt's prefix; skipped when the pool is busy
        (it only saves time) and a failure is logged, not fatal."""

        def run() -> None:
            try:
                llm.prepare(history)
            except Exception as exc:  # noqa: BLE001 - logged with its type; the next turn still works
                log.warning("%s: preparing the next prompt failed: %s", llm.name,
                            as_provider_error(llm.name, exc))

        try:
            self._llm.submit(owner, run)
        except Overloaded:
            log.debug("llm pool busy; next prompt not prepared")

    # ----- speech ---------------------------------------------------------------------------
    def speak(self, tts: TTSProvider, feed: SpeechFeed, on_audio: Callable[[int, bytes, int], None],
              on_done: Callable[[], None], on_error: ErrorCallback,
              cancelled: Callable[[], bool], *, owner: Hashable) -> Future[None]:
        chunk_bytes = tts.sample_rate * AUDIO_CHUNK_MS // 1000 * 2

        def run() -> None:
            index = 0
            try:
                while (sentence := feed.next(cancelled)) is not None:
                    for pcm in tts.synthesize(sentence):
                        for chunk in split_chunks(pcm, chunk_bytes):
                            if cancelled():
                                return
                            on_audio(index, chunk, tts.sample_rate)
                    index += 1
            except Exception as exc:  # noqa: BLE001 - any failure goes to the turn, logged there
                on_error(as_provider_error(tts.name, exc))
                return
            if not cancelled():
                on_done()

        return self._tts.submit(owner, run)


__all__ = ["ModelWorkers", "Overloaded", "SpeechFeed"]
