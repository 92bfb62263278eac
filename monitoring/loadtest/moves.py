"""A load-test session following its conversation when the server goes away under it (a
restart, a crash), as the page does: which closes are followed, the ``resume`` that asks
for the conversation back, and what the move cost (``Move``)."""

from __future__ import annotations

import json

from monitoring.loadtest.inbox import Inbox, Move

CLOSE_RESTART = 1012  # the server restarts: reconnect and resume
CLOSE_ABNORMAL = 1006  # the socket vanished without a close (a killed server)
MAX_MOVES = 5  # per session: a server that keeps going away is a failure, not a move
RESUME_DEADLINE_S = 30.0  # from the close: reconnecting until then
RECONNECT_PAUSE_S = 0.2
# The exchanges a resumed ``ready`` shows (the server's VOICECHAT_HISTORY_TURNS, 6 by default):
# the last this many answered turns must all be there.
SERVER_HISTORY_EXCHANGES = 6


def should_follow(inbox: Inbox, close_code: int | None, moves_so_far: int) -> bool:
    """A server that said it restarts, or vanished without a close (killed), is followed
    to wherever the conversation resumes."""
    gone = inbox.restarting or close_code in (CLOSE_RESTART, CLOSE_ABNORMAL)
    return gone and bool(inbox.ready.get("resume_token")) and moves_so_far < MAX_MOVES


def resume_message(inbox: Inbox) -> str:
    """The first message of the new socket: the id and one-time token of the last ``ready``."""
    ready = inbox.ready
    return json.dumps({"type": "resume", "session_id": ready.get("session_id"),
                       "token": ready.get("resume_token")})


class PendingMove:
    """A move under way: when the old socket closed, and what had been answered by then."""

    def __init__(self, closed_at: float, answered: int) -> None:
        self.closed_at = closed_at
        self.answered = answered
        self.deadline = closed_at + RESUME_DEADLINE_S

    def gave_up(self) -> Move:
        return Move(self.answered, False, None, self.answered, f"not back within {RESUME_DEADLINE_S:.0f} s")

    def arrived(self, inbox: Inbox) -> Move:
        """The new socket's ``ready`` came: resumed or not, with its history."""
        ready = inbox.ready
        resumed = bool(ready.get("resumed"))
        history = ready.get("history") or []
        heard = sum(1 for m in history if isinstance(m, dict) and m.get("role") == "user")
        lost = max(0, min(self.answered, SERVER_HISTORY_EXCHANGES) - heard) if resumed else self.answered
        return Move(self.answered, resumed, round((inbox.ready_at - self.closed_at) * 1000.0, 1), lost,
                    None if resumed else inbox.last_error or "not resumed")
