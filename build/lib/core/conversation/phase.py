"""Where the conversation is (idle, listening, thinking, speaking), told to the person
whenever it changes. Shared by the engine and its playback."""

from __future__ import annotations

from core.conversation.commands import Action
from core.conversation.events import Phase, StateChanged


class PhaseTracker:
    def __init__(self) -> None:
        self.phase = Phase.IDLE

    def enter(self, phase: Phase, turn: int | None) -> list[Action]:
        self.phase = phase
        return [StateChanged(phase, turn)]
