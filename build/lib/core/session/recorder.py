"""A session's finalized turns, on their way to the conversation store.

``record`` queues a row without waiting, ``forget`` the deletion of them all; ``gate``
gives the step the session's send thread runs before showing a finalized turn (a final
``Transcript``, a ``ReplyDone``) or a deletion (``ConversationDeleted``), so the client
never sees what the store does not have yet (a store slower than ``STORE_WAIT_S`` is
counted and not waited on).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.conversation.commands import Record
from core.conversation.events import ErrorNotice, OutputEvent, ReplyDone, Transcript
from core.metrics import Metrics
from core.session.events import ConversationDeleted
from core.store.conversations import ConversationStore, StoreFull

log = logging.getLogger(__name__)

STORE_WAIT_S = 1.0


class TurnRecorder:
    def __init__(self, store: ConversationStore | None, session_id: str, metrics: Metrics,
                 channel: str = "browser") -> None:
        self._store = store
        self._channel = channel
        self._session_id = session_id
        self._metrics = metrics
        self._ticket = 0  # the store's ticket of this session's last record

    def record(self, record: Record) -> None:
        if self._store is None:
            return
        try:
            self._ticket = self._store.record(self._session_id, record.turn, record.role, record.text,
                                              cut=record.cut, channel=self._channel)
        except StoreFull:
            self._metrics.count("store_full")
            log.warning("session %s: conversation store full, turn %d not stored",
                        self._session_id[:8], record.turn)

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

    def gate(self, event: OutputEvent) -> Callable[[], None] | None:
        """For an event that shows a finalized turn: wait until it is stored."""
        store, ticket = self._store, self._ticket
        finalized = (isinstance(event, (ReplyDone, ConversationDeleted))
                     or (isinstance(event, Transcript) and event.final))
        if store is None or not ticket or not finalized:
            return None

        def stored() -> None:
            if not store.wait_written(ticket, STORE_WAIT_S):
                self._metrics.count("store_slow")

        return stored
