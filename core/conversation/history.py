"""Bounded conversation memory that keeps the LLM's prompt prefix stable.

Dropping one old exchange per turn would change the start of the prompt every turn,
and llama.cpp would have to evaluate the whole history again. Dropping the oldest half
at once when the limit is reached keeps the prefix (and its cached state) unchanged
for many turns in a row.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.conversation.endpointing import normalized
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

    def clear(self) -> None:
        self._messages.clear()

    def __len__(self) -> int:
        return len(self._messages)


class ConversationMemory:
    """What the conversation remembers to keep from going round in circles (seed 003):
    the history for the prompt, the last words answered (the same words again soon are
    not answered twice) and the last reply (not to be repeated word for word)."""

    def __init__(self, max_messages: int, dedup_window_ms: int) -> None:
        self.history = ConversationHistory(max_messages)
        self._dedup_window_ms = dedup_window_ms
        self._last_user: tuple[str, float] | None = None
        self.last_reply = ""

    def forget(self) -> None:
        """The person deleted the conversation: nothing of it may reach a prompt again."""
        self.history.clear()
        self._last_user = None
        self.last_reply = ""

    def is_repeat(self, text: str, now: float) -> bool:
        last = self._last_user
        return (last is not None and last[0] == normalized(text)
                and now - last[1] < self._dedup_window_ms)

    def answering(self, text: str, now: float) -> None:
        self._last_user = (normalized(text), now)

    def not_answered(self, text: str) -> None:
        """The answer to ``text`` failed: asking again is not a repeat."""
        if self._last_user is not None and self._last_user[0] == normalized(text):
            self._last_user = None

    def exchange(self, user_text: str, reply: str) -> None:
        """A finished (or cut) exchange, for the prompt of the next turns."""
        self.history.add(Message("user", user_text), Message("assistant", reply))

    def replied(self, user_text: str, reply: str) -> None:
        self.exchange(user_text, reply)
        self.last_reply = reply


@dataclass(frozen=True)
class CarriedConversation:
    """What a conversation needs to go on in another process: the prompt's history, the
    number of its latest turn (the next one follows it), its last reply."""

    messages: tuple[Message, ...]
    last_turn: int
    last_reply: str

    def as_json(self) -> dict[str, object]:
        return {"messages": [[m.role, m.text] for m in self.messages], "last_turn": self.last_turn,
                "last_reply": self.last_reply}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CarriedConversation:
        """Raises ``ValueError`` for anything but what ``as_json`` writes."""
        try:
            messages = tuple(Message(str(role), str(text)) for role, text in data["messages"])  # type: ignore[attr-defined]
            return cls(messages, int(data["last_turn"]), str(data["last_reply"]))  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a parked conversation: {exc}") from exc
