"""Idle sessions for the memory figure: connected, listening, sending room noise.

What a person who pressed Start and says nothing costs the server: the socket, its
threads, the session's buffers and detectors. One asyncio loop holds them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from monitoring.clients.voice_client import FRAME_MS, opening_messages
from monitoring.loadtest.audio import QuietFrames

FRAME_S = FRAME_MS / 1000.0


class IdleSessionError(RuntimeError):
    """An idle session could not start listening."""


async def _listening(ws: ClientConnection, timeout_s: float) -> None:
    for opening in opening_messages():
        await ws.send(opening)
    deadline = time.monotonic() + timeout_s
    while True:
        message = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
        if isinstance(message, str):
            event = json.loads(message)
            if event.get("type") == "state" and event.get("state") == "listening":
                return
            if event.get("type") == "error":
                raise IdleSessionError(f"refused: {event.get('code')}")


async def _idle(url: str, index: int, until: float, quiet: QuietFrames, opened: list[int]) -> None:
    async with connect(url, ping_interval=None, compression=None, proxy=None) as ws:
        await _listening(ws, 15.0)
        opened.append(index)
        reader = asyncio.create_task(_drain(ws), name=f"idle-reader-{index}")
        try:
            start, frame = time.monotonic(), 0
            while time.monotonic() < until:
                await ws.send(quiet.frame(index + frame))
                frame += 1
                await asyncio.sleep(max(0.0, start + frame * FRAME_S - time.monotonic()))  # a mic's pace
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def _drain(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass  # state events only: an idle session gets no replies


async def _hold(url: str, warm: int, sessions: int, hold_s: float,
                measure: Callable[[], int]) -> tuple[int, int]:
    """Two waves: ``warm`` sessions (the server's one-off costs: the speech model, pools),
    a reading; then the rest, another reading, all still open and streaming."""
    quiet = QuietFrames(seed=1)
    opened: list[int] = []
    until = time.monotonic() + 3 * hold_s + sessions / 25
    tasks: list[asyncio.Task[None]] = []
    readings = []
    try:
        for first, last in ((0, warm), (warm, sessions)):
            ramp_s = max(1.0, (last - first) / 50)
            tasks += [asyncio.create_task(_start_later(k * ramp_s / (last - first), url, i, until, quiet,
                                                       opened))
                      for k, i in enumerate(range(first, last))]
            await asyncio.sleep(ramp_s + hold_s / 2)  # open and streaming for a while (a pace)
            if len(opened) < last:
                raise IdleSessionError(f"only {len(opened)} of {last} idle sessions started")
            readings.append(measure())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return readings[0], readings[1]


async def _start_later(delay_s: float, url: str, index: int, until: float, quiet: QuietFrames,
                       opened: list[int]) -> None:
    await asyncio.sleep(delay_s)
    await _idle(url, index, until, quiet, opened)


def hold_idle_sessions(url: str, warm: int, sessions: int, hold_s: float,
                       measure: Callable[[], int]) -> tuple[int, int]:
    """``measure()`` with ``warm`` idle sessions open, then with ``sessions`` open (all
    listening and streaming room noise)."""
    if not 0 < warm < sessions:
        raise ValueError("need 0 < warm < sessions")
    return asyncio.run(_hold(url, warm, sessions, hold_s, measure))
