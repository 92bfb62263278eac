"""Bounded conversation memory that keeps the LLM's prompt prefix stable.

Dropping one old exchange per turn would change the start of the prompt every turn,
and llama.cpp would have to evaluate the whole history again. Dropping the oldest half
at once when the limit is reached keeps the prefix (and its cached state) unchanged
for many turns in a row.
"""

from __future__ import annotations

from core.providers.base import Message


class ConversationHistory:
    def __init__(self, max_messages: int) -> None:
        if max_messages < 2:
            raise ValueError("history must hold at least one exchange")
        self._max = max_messages
        self._messages: list[Message] = []

    def add(self, *messages: Message) -> None:
        self._messages.extend(messages)
        if len(self._messages) > self._max:
            keep = self._max // 2
            del self._messages[: len(self._messages) - keep]

    def messages(self) -> tuple[Message, ...]:
        return tuple(self._messages)

    def __len__(self) -> int:
        return len(self._messages)
