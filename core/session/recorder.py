"""A session's finalized turns, on their way to the conversation store.

``record`` queues a row without waiting, ``forget`` the deletion of them all; ``gate``
gives the step the session's send thread runs before showing a finalized turn (a final
``Transcript``, a ``ReplyDone``) or a deletion (``ConversationDeleted``), so the client
never sees what the store does not have yet. Nothing goes wrong in silence: a record the
store cannot take (``store_full``), a write that failed (``store_failed``) or one still
not done after ``STORE_WAIT_S`` (``store_slow``: the turn is shown, not held back longer,
since the session's audio waits behind it) is counted, logged and told to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.conversation.commands import Record
from core.conversation.events import ErrorNotice, OutputEvent, ReplyDone, Transcript
from core.conversation.history import Message
from core.metrics import Metrics
from core.session.events import ConversationDeleted
from core.store.backend import StoreError
from core.store.conversations import ConversationStore, StoreFull, Written

log = logging.getLogger(__name__)

STORE_WAIT_S = 1.0
TRANSCRIPT_TURNS = 1000  # the most of a conversation a resumed page is shown


class TurnRecorder:
    def __init__(self, store: ConversationStore | None, session_id: str, metrics: Metrics,
                 channel: str = "browser") -> None:
        self._store = store
        self._channel = channel
        self._session_id = session_id
        self._metrics = metrics
        self._ticket = 0  # the store's ticket of this session's last record

    def record(self, record: Record) -> ErrorNotice | None:
        """Queue ``record``; what to tell the client when the store cannot take it."""
        if self._store is None:
            return None
        try:
            self._ticket = self._store.record(self._session_id, record.turn, record.role, record.text,
                                              cut=record.cut, channel=self._channel)
        except StoreFull:
            self._metrics.count("store_full")
            log.warning("session %s: conversation store full, turn %d not stored",
                        self._session_id[:8], record.turn)
            return ErrorNotice("store_full", "The server is too busy to save this turn; the "
                               "conversation goes on.", retryable=True, turn=record.turn)
        return None

    def forget(self) -> OutputEvent:
        """Queue the deletion of this session's stored turns (after the records queued
        before it); the event to show when it is done, or why it cannot be done now."""
        if self._store is None:
            return ConversationDeleted(stored=False)
        try:
            self._ticket = self._store.delete_conversation(self._session_id)
        except StoreFull:
            self._metrics.count("store_full")
            return ErrorNotice("store_busy", "The stored conversation could not be deleted right now; "
                               "try again.", retryable=True)
        return ConversationDeleted(stored=True)

    def transcript(self, remembered: list[Message]) -> list[dict[str, object]]:
        """What a resumed page shows: the whole conversation as stored (the turns queued
        before now included), or, without a store (or when it cannot be read), what the
        assistant remembers (its last few exchanges)."""
        store = self._store
        if store is not None:
            try:
                if self._ticket:
                    store.outcome(self._ticket, STORE_WAIT_S)  # (the latest turns written first)
                stored = store.turns(self._session_id, TRANSCRIPT_TURNS)
                return [{"turn": t.turn, "role": t.role, "text": t.text, "cut": t.cut} for t in stored]
            except StoreError as exc:
                self._metrics.count("store_read_errors")
                log.warning("session %s: stored conversation unreadable (%s): the remembered part instead",
                            self._session_id[:8], exc)
        return [{"role": m.role, "text": m.text, "cut": m.role == "assistant" and m.text.endswith(" …")}
                for m in remembered]

    def gate(self, event: OutputEvent) -> Callable[[], OutputEvent | None] | None:
        """For an event that shows a finalized turn: wait until it is stored; the step
        returns what to tell the client after the event when it was not."""
        store, ticket = self._store, self._ticket
        finalized = (isinstance(event, (ReplyDone, ConversationDeleted))
                     or (isinstance(event, Transcript) and event.final))
        if store is None or not ticket or not finalized:
            return None
        deleting = isinstance(event, ConversationDeleted)

        def stored() -> OutputEvent | None:
            outcome = store.outcome(ticket, STORE_WAIT_S)
            if outcome is Written.COMMITTED:
                return None
            self._metrics.count(f"store_{'slow' if outcome is Written.PENDING else 'failed'}")
            log.warning("session %s: store write %s", self._session_id[:8], outcome.value)
            if outcome is Written.PENDING:
                return ErrorNotice("store_slow", "The server has not saved this yet (its store is "
                                   "behind); it will.", retryable=True)
            what = "delete the stored conversation; try again" if deleting else "save this turn"
            return ErrorNotice("store_failed", f"The server could not {what}.", retryable=deleting)

        return stored
