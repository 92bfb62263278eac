"""Per-session bounded input buffer that turns client frames into VAD frames.

Clients send 20 ms frames; webrtcvad wants 30 ms. The buffer collects bytes and hands
out whole VAD frames. Overflow policy: when more than ``capacity_bytes`` are waiting
(the reader fell behind), the oldest audio is dropped and counted — fresh speech
matters more than stale speech in a live conversation. More than ``max_chunks`` pieces
waiting are joined into one, so many tiny frames cannot cost more than their bytes.
"""

from __future__ import annotations

import threading
from collections import deque

from core.audio.pcm import SAMPLE_BYTES


class StreamBuffer:
    def __init__(self, capacity_bytes: int, frame_bytes: int, max_chunks: int = 1000) -> None:
        if frame_bytes <= 0 or frame_bytes % SAMPLE_BYTES:
            raise ValueError("frame_bytes must be a positive whole number of samples")
        if capacity_bytes < frame_bytes:
            raise ValueError("capacity must hold at least one frame")
        self._capacity = capacity_bytes - capacity_bytes % frame_bytes
        self._frame_bytes = frame_bytes
        self._max_chunks = max(2, max_chunks)
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._lock = threading.Lock()
        self.dropped_bytes = 0
        self.total_bytes = 0

    @property
    def size(self) -> int:
        return self._size

    @property
    def chunks(self) -> int:
        return len(self._chunks)

    def push(self, pcm: bytes) -> None:
        with self._lock:
            self._chunks.append(pcm)
            self._size += len(pcm)
            self.total_bytes += len(pcm)
            if len(self._chunks) > self._max_chunks:
                joined = b"".join(self._chunks)
                self._chunks.clear()
                self._chunks.append(joined)
            overflow = self._size - self._capacity
            if overflow > 0:
                # Drop whole frames' worth from the front so framing stays aligned.
                overflow += (-overflow) % self._frame_bytes
                self._discard_front(overflow)
                self.dropped_bytes += overflow

    def pop_frames(self) -> list[bytes]:
        """Every whole frame waiting, oldest first; a partial frame stays for later."""
        with self._lock:
            n_frames = self._size // self._frame_bytes
            if n_frames == 0:
                return []
            data = self._take_front(n_frames * self._frame_bytes)
        fb = self._frame_bytes
        return [data[i : i + fb] for i in range(0, len(data), fb)]

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()
            self._size = 0

    def _take_front(self, n: int) -> bytes:
        parts = []
        while n > 0:
            head = self._chunks[0]
            if len(head) <= n:
                parts.append(self._chunks.popleft())
                n -= len(head)
                self._size -= len(head)
            else:
                parts.append(head[:n])
                self._chunks[0] = head[n:]
                self._size -= n
                n = 0
        return b"".join(parts)

    def _discard_front(self, n: int) -> None:
        self._take_front(min(n, self._size))
