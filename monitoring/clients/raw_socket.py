"""A plain WebSocket's side of ``/ws/voice`` (websocket-client), for the tests, the attack
run and the benchmarks that read events one by one instead of through ``VoiceClient``:
events until one comes, events until the server closes, a typed question answered."""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Callable
from typing import Any

import websocket

Event = dict[str, Any]


class NoSuchEvent(AssertionError):
    """The event waited for did not come in time."""


def events_until(ws: websocket.WebSocket, done: str | Callable[[Event], bool],
                 timeout_s: float = 20.0) -> list[Event]:
    """The JSON events received until one of type ``done`` (or for which ``done`` holds),
    that one included; audio is skipped. Raises ``NoSuchEvent`` after ``timeout_s``."""
    matches = (lambda e: e["type"] == done) if isinstance(done, str) else done
    seen: list[Event] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = ws.recv()
        if isinstance(message, bytes):
            continue
        seen.append(json.loads(message))
        if matches(seen[-1]):
            return seen
    raise NoSuchEvent(f"not within {timeout_s:g} s; saw {[e['type'] for e in seen]}")


def until_closed(ws: websocket.WebSocket) -> tuple[list[Event], int | None, str]:
    """The events received until the server closes: (events, close code, close reason);
    the code is None when the connection broke without a close frame."""
    events: list[Event] = []
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except (websocket.WebSocketException, OSError):
            return events, None, ""
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            if len(data) < 2:
                return events, None, ""
            return events, struct.unpack("!H", data[:2])[0], data[2:].decode(errors="replace")
        if opcode == websocket.ABNF.OPCODE_TEXT:
            events.append(json.loads(data))


def ask(ws: websocket.WebSocket, text: str) -> Event:
    """Type ``text``; its ``reply_done``."""
    ws.send(json.dumps({"type": "text", "text": text}))
    return events_until(ws, "reply_done")[-1]
