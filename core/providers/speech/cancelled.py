"""The responses a session has cancelled, so their late audio is dropped.

A speech-to-speech API goes on streaming a response's audio for a moment after it was
told to stop; those deltas must not reach the person. One field note's phone agent went
silent for good when this set was used before it existed: here it is made with the
session, bounded (the oldest ids go first), and asked before every delta.
"""

from __future__ import annotations

from collections import OrderedDict

KEPT = 64  # responses remembered; a delta of an older one is long overdue


class CancelledResponses:
    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._ids: OrderedDict[str, None] = OrderedDict()
        self.late_deltas = 0  # deltas dropped because their response was cancelled

    def cancel(self, response_id: str) -> None:
        self._ids[response_id] = None
        self._ids.move_to_end(response_id)
        while len(self._ids) > self._kept:
            self._ids.popitem(last=False)

    def __contains__(self, response_id: object) -> bool:
        return response_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def drops(self, response_id: str) -> bool:
        """A delta of ``response_id`` arrived: whether to drop it (and count it)."""
        if response_id in self._ids:
            self.late_deltas += 1
            return True
        return False
