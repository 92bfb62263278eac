"""The misbehaviours a stand-in can be asked for, each on the next answer it gives."""

from __future__ import annotations

from enum import StrEnum


class Fault(StrEnum):
    LATE_DELTAS = "late_deltas"  # audio goes on for a while after the answer was cancelled
    UNKNOWN_EVENT = "unknown_event"  # an event of a type no client knows, mid-answer
    MALFORMED = "malformed"  # a message that is not JSON, and one missing its fields
    DROP = "drop"  # the socket closed mid-answer
    STALL = "stall"  # the answer stops coming, the socket stays open
    RATE_LIMIT = "rate_limit"  # the answer refused with a rate-limit error


ALL = tuple(Fault)
