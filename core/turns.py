"""Turn bookkeeping: the conversation state and which turn may still speak.

Every utterance (or typed message) opens a numbered turn. Only the active turn may
emit anything; opening a new one, a barge-in, or closing the session makes the old
number stale, and every stage checks ``is_current`` before it emits — the generation
counter that keeps a superseded reply from ever being heard.
"""

from __future__ import annotations

import threading
from enum import StrEnum


class State(StrEnum):
    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    ERROR = "error"


class TurnTracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_turn = 0
        self._active: int | None = None
        self.state = State.IDLE

    @property
    def active(self) -> int | None:
        return self._active

    def is_current(self, turn: int) -> bool:
        return self._active == turn

    def open_turn(self) -> tuple[int, int | None]:
        """Start a new turn; returns (new turn, the turn it superseded or None)."""
        with self._lock:
            superseded = self._active
            self._last_turn += 1
            self._active = self._last_turn
            self.state = State.THINKING
            return self._last_turn, superseded

    def end_turn(self, turn: int, next_state: State) -> bool:
        """Finish ``turn`` if it is still the active one."""
        with self._lock:
            if self._active != turn:
                return False
            self._active = None
            self.state = next_state
            return True

    def cancel_active(self, next_state: State) -> int | None:
        with self._lock:
            cancelled = self._active
            self._active = None
            self.state = next_state
            return cancelled

    def set_state(self, turn: int | None, state: State) -> bool:
        """Move to ``state`` if ``turn`` is still active (None: only when no turn is)."""
        with self._lock:
            if self._active != turn:
                return False
            changed = self.state != state
            self.state = state
            return changed
