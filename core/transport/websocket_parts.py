"""Stand-ins that let ``SingleThreadServer`` (core/transport/websocket.py) reuse
simple-websocket's ``Server`` without its reader thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class NoReaderThread:
    """Takes the place of simple-websocket's reader thread, and never runs."""

    name = "no-reader-thread"

    def __init__(self, target: Callable[[], None] | None = None, **_: Any) -> None:
        self.target = target

    def start(self) -> None:
        """Nothing to start: the owner thread reads in ``receive``."""


class NoEvent:
    """simple-websocket wakes the waiting caller with an event; here the caller is the reader."""

    def set(self) -> None:
        """Nobody to wake."""

    def clear(self) -> None:
        """Nothing to clear."""


class Replies:
    """Stands in for the socket in simple-websocket's event handling (``_handle_events``),
    which writes its replies (the handshake's acceptance, pongs, close frames) at once:
    here they are collected, and written once the state lock is let go."""

    def __init__(self) -> None:
        self.pending = b""

    def send(self, data: bytes) -> int:
        self.pending += data
        return len(data)

    def take(self) -> bytes:
        data, self.pending = self.pending, b""
        return data
