"""One simulated person on ``/ws/voice``, on asyncio: a microphone that sends a 20 ms
frame at every tick of a fixed schedule (questions, then room noise, as an open mic
does), and an inbox that stamps each server message as it arrives.

Voice-to-voice of a turn is measured as in voice_client.TurnRecord.v2v_ms: the first
reply audio received minus the last voiced frame sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from monitoring.clients.voice_client import FRAME_MS, opening_messages
from monitoring.loadtest.audio import Clip, QuietFrames
from monitoring.loadtest.dial import CLOSE_TIMEOUT_S, CouldNotConnect, dial
from monitoring.loadtest.inbox import (
    IGNORED,
    MOVED,
    RESUMED,
    STOPPED,
    Inbox,
    PendingTurn,
    SessionResult,
    TurnResult,
)
from monitoring.loadtest.moves import RECONNECT_PAUSE_S, PendingMove, resume_message, should_follow
from monitoring.loadtest.plan import SessionPlan
from monitoring.loadtest.stats import LiveStats

FRAME_S = FRAME_MS / 1000.0
LEAD_FRAMES = 15  # 300 ms of room noise before the first question
CLOSE_TRY_AGAIN = 1013


class SessionRunner:
    def __init__(self, index: int, plan: SessionPlan, clips: Sequence[Clip], quiet: QuietFrames,
                 live: LiveStats) -> None:
        self.index = index
        self.plan = plan
        self.clips = clips
        self.quiet = quiet
        self.live = live
        self.result = SessionResult(index)
        self.turns: list[TurnResult] = []
        self.inbox = Inbox()
        self._ws: ClientConnection | None = None
        self._mic_t0 = 0.0
        self._frame = 0
        self._next_turn = 1  # the question to ask next (one cut by a move is asked again)
        self._target: int | None = None  # the server turn the next question talks over
        self._move: PendingMove | None = None  # coming back after the server went away

    @property
    def errors(self) -> dict[str, int]:
        return dict(self.inbox.errors)

    # ----- the session --------------------------------------------------------------
    async def run(self, start_at: float) -> None:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))  # the ramp-up schedule
        self.live.waiting -= 1
        self.live.connecting += 1
        outcome: tuple[str, str | None] = ("stopped", None)
        try:
            ws = await self._open()
            opening: tuple[str, ...] = opening_messages()
            while True:
                outcome, closed_at = await self._over(ws, opening)
                if closed_at is None:
                    break
                ws, opening = await self._come_back(closed_at)
        except CouldNotConnect as exc:
            outcome = ("failed", str(exc))
        finally:
            if self.result.connected_s is not None:
                self.live.active -= 1
            else:
                self.live.connecting -= 1
            self._end(*outcome)

    async def _open(self) -> ClientConnection:
        return await dial(self.plan.url, self.plan.connect_timeout_s)

    async def _over(self, ws: ClientConnection, opening: Sequence[str]) -> tuple[tuple[str, str | None],
                                                                              float | None]:
        """One socket's part of the conversation: its outcome, and when it closed if the
        session is to come back (the server restarted or died under it)."""
        self._ws = ws
        reader = asyncio.create_task(self.inbox.read(ws), name=f"loadtest-reader-{self.index}")
        outcome: tuple[str, str | None] | None = ("stopped", None)
        lost = False
        try:
            outcome = await self._converse(ws, opening)
        except ConnectionClosed:
            lost, outcome = True, None  # judged once the inbox has read what came before the close
        finally:
            closed_at, closed_by_server = time.monotonic(), lost or self.inbox.closed
            with contextlib.suppress(ConnectionClosed, OSError):  # already gone: nothing to close
                await ws.close()
            with contextlib.suppress(TimeoutError):  # wait_for cancels a reader that hangs on
                await asyncio.wait_for(reader, CLOSE_TIMEOUT_S)
            self.result.close_code = ws.close_code
            moving = closed_by_server and should_follow(self.inbox, ws.close_code, len(self.result.moves))
            if self.inbox.pending is not None:  # a question still waiting for its reply
                reason = MOVED if moving else "closed" if closed_by_server else STOPPED
                self._settle(self.inbox.pending, reason)
        if moving:
            return ("stopped", None), closed_at
        return outcome or self._closed_outcome(), None

    async def _come_back(self, closed_at: float) -> tuple[ClientConnection, tuple[str, ...]]:
        """A new socket (through the balancer: any process) that asks for the conversation
        back; retried until the resume window would be past."""
        if self._move is None:  # (else turned away while coming back, by a process stopping too)
            self._move = PendingMove(closed_at, sum(t.ok for t in self.turns))
        while True:
            if time.monotonic() >= self._move.deadline:
                gave_up, self._move = self._move.gave_up(), None
                self.result.moves.append(gave_up)
                raise CouldNotConnect(gave_up.reason or "")
            try:
                ws = await self._open()
                break
            except CouldNotConnect:
                await asyncio.sleep(RECONNECT_PAUSE_S)  # a backoff, as the page's
        resume = resume_message(self.inbox)
        self.inbox.reopen()
        self._target = None
        return ws, (resume, *opening_messages())

    def _on_ready(self) -> None:
        """The first ``ready`` on a socket that came back: the move is over. (Turned away
        before any ``ready``, by a process that is stopping too, it goes on.)"""
        if self._move is None or not self.inbox.readied:
            return
        move, self._move = self._move.arrived(self.inbox), None
        self.result.moves.append(move)
        if not move.resumed:
            self.inbox.last_error = None  # (the conversation goes on afresh; not its end's cause)

    async def _converse(self, ws: ClientConnection, opening: Sequence[str]) -> tuple[str, str | None]:
        inbox = self.inbox
        for message in opening:
            await ws.send(message)
        with contextlib.suppress(TimeoutError):  # judged just below
            await asyncio.wait_for(inbox.wake.wait(), self.plan.turn_timeout_s)
        self._on_ready()
        if inbox.refused is not None or inbox.closed:
            return self._closed_outcome()
        if inbox.state != "listening":
            return "failed", "never listening"
        if self.result.connected_s is None:
            self.result.connected_s = self._offset(time.monotonic())
            self.live.connecting -= 1
            self.live.active += 1
        self._mic_t0, self._frame = time.monotonic(), 0
        for _ in range(LEAD_FRAMES):
            await self._tick(self.quiet.frame(self.index + self._frame))
        while self.plan.asks(turn := self._next_turn):
            clip = self.clips[(self.index + turn - 1) % len(self.clips)]
            pending = PendingTurn(turn, clip, self._target)
            inbox.pending = pending
            await self._speak(pending)
            k = self.plan.barge_in_every
            talk_over = k > 0 and turn % k == 0 and self.plan.asks(turn + 1)
            ok = await self._await_reply(pending, talk_over)
            if inbox.closed:
                return self._closed_outcome()
            self._next_turn += 1
            self._target = pending.server_turn if ok and talk_over else None
            if self._target is None and self.plan.asks(turn + 1):
                await self._think(pending, ok)
        failed = sum(not t.ok and t.reason != MOVED for t in self.turns)
        return ("ok", None) if not failed else ("failed", "turns failed")

    def _closed_outcome(self) -> tuple[str, str | None]:
        code = self._ws.close_code if self._ws is not None else None
        if self.inbox.refused is not None or code == CLOSE_TRY_AGAIN:
            return "refused", self.inbox.refused or f"closed with {code}"
        last = self.inbox.last_error
        return "failed", f"closed by the server (code {code}" + (f", after {last})" if last else ")")

    def _end(self, outcome: str, reason: str | None) -> None:
        self.result.outcome, self.result.reason = outcome, reason
        self.result.ended_s = self._offset(time.monotonic())
        self.live.ended += 1
        if outcome == "refused":
            self.live.refused += 1
        elif outcome == "failed":
            self.live.failed_sessions += 1

    # ----- the microphone -----------------------------------------------------------
    async def _tick(self, frame: bytes) -> float:
        """Send ``frame`` at its place in the schedule (never drifting); when it went out."""
        due = self._mic_t0 + self._frame * FRAME_S
        self._frame += 1
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # a microphone's pace, not a synchronization
        self.live.lag.add(time.monotonic() - due)
        await self._ws.send(frame)  # type: ignore[union-attr]
        return time.monotonic()

    async def _speak(self, pending: PendingTurn) -> None:
        clip = pending.clip
        for i, frame in enumerate(clip.frames):
            sent_at = await self._tick(frame)
            if i == 0:
                pending.start_at = sent_at
            if i == clip.first_voiced:
                pending.first_voiced_at = sent_at
            if i == clip.last_voiced:
                pending.last_voiced_at = sent_at

    async def _quiet_until(self, done: Callable[[], bool], deadline: float) -> bool:
        """Room noise until ``done()`` (True) or the deadline or a closed socket (False)."""
        while not done():
            if self.inbox.closed or time.monotonic() >= deadline:
                return False
            await self._tick(self.quiet.frame(self.index + self._frame))
        return True

    async def _await_reply(self, pending: PendingTurn, talk_over: bool) -> bool:
        """Room noise until the reply is over (or, to talk over it, has started)."""
        def settled() -> bool:
            heard = pending.first_audio_at is not None
            return (pending.error is not None or pending.ignored or pending.resumed
                    or pending.done_at is not None or (heard and talk_over))

        await self._quiet_until(settled, time.monotonic() + self.plan.turn_timeout_s)
        heard = pending.first_audio_at is not None
        if pending.error is not None:
            return self._settle(pending, f"error {pending.error}")
        if pending.ignored:
            return self._settle(pending, IGNORED)
        if heard and (talk_over or pending.done_at is not None):
            return self._settle(pending, None)
        if pending.resumed:
            return self._settle(pending, RESUMED)
        if pending.done_at is not None:
            return self._settle(pending, "reply without audio")
        if self.inbox.closed:
            return False  # settled with the socket's end, once it is known why it closed
        return self._settle(pending, "timeout: reply not finished" if heard else "timeout: no reply")

    async def _think(self, pending: PendingTurn, ok: bool) -> None:
        """Listen to the reply as a person would (room noise while it plays) and say it played;
        room noise until the server listens, then --think-ms more (a question that starts the
        moment a reply ends is taken for its echo)."""
        if ok and pending.server_turn is not None:
            if pending.first_audio_at is not None:
                played_at = pending.first_audio_at + pending.audio_s
                await self._quiet_until(lambda: time.monotonic() >= played_at,
                                        played_at + self.plan.turn_timeout_s)
            await self._ws.send(json.dumps({"type": "playback_done", "turn": pending.server_turn}))  # type: ignore[union-attr]
        await self._quiet_until(lambda: self.inbox.state == "listening",
                                time.monotonic() + self.plan.turn_timeout_s)
        think_until = time.monotonic() + self.plan.think_s
        await self._quiet_until(lambda: time.monotonic() >= think_until, think_until + 1.0)

    def _settle(self, pending: PendingTurn, reason: str | None) -> bool:
        ok = reason is None
        v2v = barge_ms = None
        if pending.first_audio_at is not None and pending.last_voiced_at is not None:
            v2v = round((pending.first_audio_at - pending.last_voiced_at) * 1000.0, 1)
        if pending.cleared_at is not None and pending.first_voiced_at is not None \
                and pending.cleared_at >= pending.first_voiced_at:
            barge_ms = round((pending.cleared_at - pending.first_voiced_at) * 1000.0, 1)
        self.turns.append(TurnResult(
            session=self.index, turn=pending.turn, clip=pending.clip.name, ok=ok, reason=reason,
            start_s=self._offset(pending.start_at), speech_end_s=self._offset(pending.last_voiced_at),
            v2v_ms=v2v, server_v2v_ms=pending.server_v2v_ms, barge_in=pending.barge_target is not None,
            barge_in_ms=barge_ms, server_turn=pending.server_turn))
        if reason not in (STOPPED, MOVED):
            self.live.turn_done(ok, v2v)
        self.inbox.pending = None
        return ok

    def _offset(self, at: float | None) -> float | None:
        return None if at is None else round(at - self.plan.t0, 3)
