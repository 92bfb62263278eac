"""A plain WebSocket client's side of a conversation, for tests across server processes."""

from __future__ import annotations

import json
import time

import websocket


def events(ws: websocket.WebSocket, until: str, timeout_s: float = 20.0) -> list[dict]:
    seen: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = ws.recv()
        if isinstance(message, str):
            seen.append(json.loads(message))
            if seen[-1]["type"] == until:
                return seen
    raise AssertionError(f"no {until}: {[e['type'] for e in seen]}")


def ask(ws: websocket.WebSocket, text: str) -> dict:
    ws.send(json.dumps({"type": "text", "text": text}))
    return events(ws, "reply_done")[-1]
