"""What one load-test session hears from the server: each message stamped as it arrives,
and the server's turn numbers matched to the questions asked.

The matching is by order: the first turn number the server uses after a question's
first voiced frame went out belongs to that question (the greeting, or a reply to an
earlier question that came too late, has a number from before).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from core.transport.wire import AUDIO_HEADER, AUDIO_KIND_REPLY
from monitoring.loadtest.audio import Clip

REFUSAL_CODES = frozenset({"server_full", "address_limit", "too_many_from_address"})
IGNORED = "ignored (repeated words)"
RESUMED = "taken for noise (the earlier reply resumed)"
STOPPED = "stopped with the run"  # in flight when the run was stopped: neither ok nor failed
MOVED = "moved with its server"  # in flight when the server restarted or died: asked again after the resume
RESTARTING = "server_restarting"
MAX_ERROR_CODES = 64
TURN_EVENTS = frozenset({"transcript", "reply_text", "reply_started", "sentence_start", "thinking"})


@dataclass
class TurnResult:
    session: int
    turn: int
    clip: str
    ok: bool
    reason: str | None  # why it failed; None when ok
    start_s: float | None  # first frame of the question, since the run started
    speech_end_s: float | None  # last voiced frame of the question
    v2v_ms: float | None  # first reply audio received - last voiced frame sent
    server_v2v_ms: float | None  # the same as the server measured it (reply_done timings)
    barge_in: bool  # this question talked over the previous reply
    barge_in_ms: float | None  # its first voiced frame sent -> the server's clear (barge_in)
    server_turn: int | None


@dataclass
class Move:
    """The session's server went away (a restart, a crash) and the session came back."""
    answered: int  # turns answered before it (none: the server keeps nothing to resume)
    resumed: bool  # the conversation was taken back (a ``ready`` with ``resumed: true``)
    pause_ms: float | None  # the socket's close -> the resumed ``ready``: the silence a person hears
    turns_lost: int  # answered before the move, missing from the history after it
    reason: str | None = None  # why it did not resume

    @property
    def owed(self) -> bool:
        """A resume was owed: there was a conversation to take back."""
        return self.answered > 0


@dataclass
class SessionResult:
    session: int
    outcome: str = "not started"  # ok, failed, refused, stopped (the run was stopped meanwhile)
    reason: str | None = None
    close_code: int | None = None
    connected_s: float | None = None
    ended_s: float | None = None
    moves: list[Move] = field(default_factory=list)


class PendingTurn:
    """A question in flight: monotonic stamps filled in by the microphone and the inbox."""

    def __init__(self, turn: int, clip: Clip, barge_target: int | None) -> None:
        self.turn = turn
        self.clip = clip
        self.barge_target = barge_target  # the server turn this question talks over
        self.server_turn: int | None = None
        self.start_at: float | None = None
        self.first_voiced_at: float | None = None
        self.last_voiced_at: float | None = None
        self.first_audio_at: float | None = None
        self.audio_s = 0.0  # reply audio received: how long it plays
        self.done_at: float | None = None
        self.server_v2v_ms: float | None = None
        self.cleared_at: float | None = None
        self.error: str | None = None
        self.ignored = False
        self.resumed = False  # the server took the question for noise and resumed an earlier reply


class Inbox:
    def __init__(self) -> None:
        self.state: str | None = None
        self.closed = False
        self.refused: str | None = None  # the refusal's error code
        self.last_error: str | None = None
        self.errors: Counter[str] = Counter()  # error events by code
        self.wake = asyncio.Event()  # listening, refused or closed
        self.pending: PendingTurn | None = None
        self.ready: dict[str, Any] = {}  # the latest ``ready`` (its id and resume token open a resume)
        self.restarting = False  # the server said it is going away (``server_restarting``)
        self.readied = False  # a ``ready`` came on this socket
        self.ready_at = 0.0
        self._last_server_turn = 0
        self._settled_turn = 0  # the last server turn that ended (answered, or cleared)

    def reopen(self) -> None:
        """A new socket for the same conversation: what the old one knew of the connection
        goes; the counts, the turn numbers and the resume credentials stay."""
        self.state = None
        self.closed = self.restarting = self.readied = False
        self.refused = None
        self.wake = asyncio.Event()
        self.pending = None
        # A server that died may hand the conversation over as it stood at its last reply:
        # the number of a turn it had begun then is given again.
        self._last_server_turn = self._settled_turn

    async def read(self, ws: ClientConnection) -> None:
        try:
            with contextlib.suppress(ConnectionClosed):  # how it ended is in ws.close_code
                async for message in ws:
                    now = time.monotonic()
                    if isinstance(message, bytes):
                        self.on_audio(message, now)
                    else:
                        self.on_text(message, now)
        finally:
            self.closed = True
            self.wake.set()

    def claim(self, turn: object) -> PendingTurn | None:
        """The question this server turn belongs to, if it is the one in flight."""
        pending = self.pending
        if pending is None or not isinstance(turn, int):
            return None
        if pending.server_turn == turn:
            return pending
        if pending.server_turn is None and pending.first_voiced_at is not None \
                and turn > self._last_server_turn:
            pending.server_turn = self._last_server_turn = turn
            return pending
        return None

    def on_audio(self, message: bytes, now: float) -> None:
        if len(message) < AUDIO_HEADER.size:
            self.errors["bad_audio_from_server"] += 1
            return
        _magic, _version, kind, turn, rate = AUDIO_HEADER.unpack_from(message)
        if kind != AUDIO_KIND_REPLY:
            return  # the "let me think" cue is not the answer
        pending = self.claim(turn)
        if pending is not None:
            if pending.first_audio_at is None:
                pending.first_audio_at = now
            if rate > 0:
                pending.audio_s += (len(message) - AUDIO_HEADER.size) / 2 / rate

    def on_text(self, message: str, now: float) -> None:
        try:
            event = json.loads(message)
        except ValueError:
            self.errors["bad_json_from_server"] += 1
            return
        kind, turn = event.get("type"), event.get("turn")
        if kind == "ready":
            self.ready, self.readied, self.ready_at = event, True, now
        elif kind == "state":
            self.state = event.get("state")
            if self.state == "listening":
                self.wake.set()
                pending = self.pending
                if pending is not None and pending.first_audio_at is not None and pending.done_at is None:
                    pending.done_at = now  # its audio has ended (the server timed its playing)
            elif self.state == "thinking":
                self.claim(turn)
        elif kind == "error":
            self._on_error(str(event.get("code")), turn)
        elif kind == "clear":
            self._on_clear(turn, event.get("reason"), now)
        elif kind == "reply_done":
            if (pending := self.claim(turn)) is not None:
                self._settled_turn = max(self._settled_turn, pending.server_turn or 0)
                pending.done_at = now
                timings = event.get("timings")
                first_audio = timings.get("tts_first_audio_ms") if isinstance(timings, dict) else None
                if isinstance(first_audio, int | float):
                    pending.server_v2v_ms = float(first_audio)
        elif kind == "ignored":
            if (pending := self.claim(turn)) is not None:
                pending.ignored = True
        elif kind == "resume":
            pending = self.pending
            if pending is not None and pending.first_voiced_at is not None and turn != pending.server_turn:
                pending.resumed = True
        elif kind in TURN_EVENTS:
            self.claim(turn)

    def _on_error(self, code: str, turn: object) -> None:
        if code not in self.errors and len(self.errors) >= MAX_ERROR_CODES:
            code = "other"  # a server inventing codes cannot grow the counter without end
        self.errors[code] += 1
        self.last_error = code
        if code == RESTARTING:
            self.restarting = True
        elif code in REFUSAL_CODES:
            self.refused = code
            self.wake.set()
        elif (pending := self.claim(turn)) is not None and pending.error is None:
            pending.error = code

    def _on_clear(self, turn: object, reason: object, now: float) -> None:
        if isinstance(turn, int):  # a cleared turn is over: audio of it still in flight is no answer
            self._last_server_turn = max(self._last_server_turn, turn)
            self._settled_turn = max(self._settled_turn, turn)
        pending = self.pending
        if pending is None:
            return
        if reason == "barge_in" and turn == pending.barge_target and pending.cleared_at is None:
            pending.cleared_at = now
        elif turn == pending.server_turn:
            # The server answered a pause inside the question and dropped that answer when
            # the question went on: the question's reply is the next turn.
            pending.server_turn = None
            pending.first_audio_at = pending.done_at = None
