"""Providers that fail on request, to test how the server copes with a failing provider.

Each wrapper subclasses the real interface and delegates to a real provider until a
test (or a load run) calls ``inject``: the next calls then fail in the chosen way.

- ``raise``: a retryable ``ProviderError``.
- ``hang``: the call blocks until ``release()`` or ``close()`` (at most ``HANG_CAP_S``),
  then carries on normally: a very slow provider.
- ``garbage``: output no provider should produce (a transcript that is not text, a reply
  piece that is not text, audio of an odd number of bytes).

For the streams (LLM, TTS), ``after`` pieces are delivered normally before the fault
strikes, so a test can make a reply fail half-way.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from core.providers.base import LLMProvider, Message, ProviderError, STTProvider, TTSProvider

FaultMode = Literal["raise", "hang", "garbage"]
HANG_CAP_S = 60.0


@dataclass(frozen=True)
class _Fault:
    mode: FaultMode
    after: int


class _Faults:
    """The faults still to come and the counters; shared by the three wrappers."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._queue: deque[_Fault] = deque()
        self._release = threading.Event()
        self._closed = False
        self.calls = 0
        self.pieces = 0
        self.open_streams = 0

    def inject(self, mode: FaultMode, times: int, after: int) -> None:
        if mode not in ("raise", "hang", "garbage") or times < 1 or after < 0:
            raise ValueError(f"bad fault: {mode!r} x{times} after {after}")
        with self._lock:
            self._queue.extend(_Fault(mode, after) for _ in range(times))

    def take(self) -> _Fault | None:
        """Counts a call and hands it its fault, if one is due."""
        with self._lock:
            self.calls += 1
            return self._queue.popleft() if self._queue else None

    @property
    def left(self) -> int:
        with self._lock:
            return len(self._queue)

    def strike(self, fault: _Fault) -> bool:
        """Raises, hangs, or returns True when the caller must produce garbage."""
        if fault.mode == "raise":
            raise ProviderError(self._name, "injected failure", retryable=True)
        if fault.mode == "hang":
            with self._lock:
                release = self._release
                closed = self._closed
            if not closed:
                release.wait(HANG_CAP_S)
            return False
        return True

    def release(self) -> None:
        """Ends the hangs under way; later injected hangs block again."""
        with self._lock:
            release, self._release = self._release, threading.Event()
        release.set()

    def disarm(self) -> int:
        """Drops the faults no call has taken; how many there were."""
        with self._lock:
            left = len(self._queue)
            self._queue.clear()
            return left

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.release()

    def count_piece(self) -> None:
        with self._lock:
            self.pieces += 1

    def stream_opened(self, delta: int) -> None:
        with self._lock:
            self.open_streams += delta


class _FaultyBase:
    """Counters and controls the three wrappers share."""

    _faults: _Faults

    def inject(self, mode: FaultMode, times: int = 1, *, after: int = 0) -> None:
        """The next ``times`` calls fail with ``mode``; ``after``: pieces first (streams)."""
        self._faults.inject(mode, times, after)

    def release(self) -> None:
        self._faults.release()

    def disarm(self) -> int:
        """Faults injected that no call took (a drill whose fault never fired), dropped."""
        return self._faults.disarm()

    @property
    def calls(self) -> int:
        return self._faults.calls

    @property
    def faults_left(self) -> int:
        return self._faults.left

    @property
    def pieces(self) -> int:
        """Stream pieces taken from the wrapped provider."""
        return self._faults.pieces

    @property
    def open_streams(self) -> int:
        """Streams started and not yet finished or closed."""
        return self._faults.open_streams

    def _stream(self, make: Callable[[], Iterable[object]], garbage: object) -> Iterator[object]:
        fault = self._faults.take()
        self._faults.stream_opened(+1)
        inner: Iterator[object] | None = None
        try:
            inner = iter(make())
            delivered = 0
            while True:
                if fault is not None and delivered == fault.after:
                    if self._faults.strike(fault):
                        yield garbage
                        return
                    fault = None
                try:
                    piece = next(inner)
                except StopIteration:
                    if fault is not None:  # a short stream: the fault strikes at its end
                        delivered = fault.after
                        continue
                    return
                self._faults.count_piece()
                delivered += 1
                yield piece
        finally:
            close = getattr(inner, "close", None)
            if callable(close):
                close()
            self._faults.stream_opened(-1)


class FaultySTT(_FaultyBase, STTProvider):
    def __init__(self, inner: STTProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self._faults = _Faults(inner.name)

    def transcribe(self, pcm16: bytes, sample_rate: int = 16_000) -> str:
        fault = self._faults.take()
        if fault is not None and self._faults.strike(fault):
            return None  # type: ignore[return-value]  # the garbage under test
        return self.inner.transcribe(pcm16, sample_rate)

    def warm_up(self) -> None:
        self.inner.warm_up()

    def close(self) -> None:
        self._faults.close()
        self.inner.close()


class FaultyLLM(_FaultyBase, LLMProvider):
    def __init__(self, inner: LLMProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self._faults = _Faults(inner.name)

    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        return self._stream(lambda: self.inner.stream_reply(history, user_text, avoid=avoid),
                            b"\xff")  # type: ignore[return-value]

    def prepare(self, history: Sequence[Message]) -> None:
        self.inner.prepare(history)

    def warm_up(self) -> None:
        self.inner.warm_up()

    def close(self) -> None:
        self._faults.close()
        self.inner.close()


class FaultyTTS(_FaultyBase, TTSProvider):
    def __init__(self, inner: TTSProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self._faults = _Faults(inner.name)

    @property  # type: ignore[override]
    def sample_rate(self) -> int:  # the wrapped provider may learn its rate late
        return self.inner.sample_rate

    def synthesize(self, text: str) -> Iterator[bytes]:
        return self._stream(lambda: self.inner.synthesize(text), b"\x01\x02\x03")  # type: ignore[return-value]

    def warm_up(self) -> None:
        self.inner.warm_up()

    def close(self) -> None:
        self._faults.close()
        self.inner.close()


__all__ = ["HANG_CAP_S", "FaultMode", "FaultyLLM", "FaultySTT", "FaultyTTS"]
