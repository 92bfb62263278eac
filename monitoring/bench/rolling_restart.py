"""``make bench-restart``: a rolling restart under talking sessions, and what people notice.

The scaled setup on this machine (``make run-cluster``'s Redis, PostgreSQL, HAProxy and
two processes, simulated providers): N sessions hold a conversation through the
balancer; each process in turn is stopped (SIGTERM, as a deploy does) and started again.
Every session whose process stops reconnects through the balancer and resumes. Figures:
the share of moves that resumed (target 100 %), the pause from the close to the resumed
``ready`` (p50/p95: what the person hears as silence), and turns lost (the history after
the move against the turns answered before it; target 0). Exits non-zero on a missed
target; saves docs/results/rolling-restart.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import websocket

from monitoring.metrics.series import percentile
from monitoring.servers.cluster import running_cluster

RECONNECT_DEADLINE_S = 30.0


class Person:
    """One conversation through the balancer, moving when its process stops."""

    def __init__(self, url: str, number: int) -> None:
        self.url = url
        self.number = number
        self.answered = 0  # turns answered so far
        self.moves: list[dict[str, Any]] = []
        self.credentials: dict[str, str] = {}
        self.talking = threading.Event()  # connected and done asking: waiting for what comes

    def _connect(self, first: dict[str, Any] | None) -> tuple[websocket.WebSocket, dict[str, Any]]:
        deadline = time.monotonic() + RECONNECT_DEADLINE_S
        while True:
            try:
                ws = websocket.create_connection(self.url, timeout=30)
                if first is not None:
                    ws.send(json.dumps(first))
                    ws.send(json.dumps({"type": "ping", "t": 0}))
                ready: dict[str, Any] = {}
                while True:
                    event = json.loads(ws.recv())
                    if event["type"] == "ready":
                        ready = event
                    if event["type"] == ("pong" if first is not None else "ready"):
                        return ws, ready
            except (websocket.WebSocketException, OSError, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # the balancer has not seen the change yet: try again

    def _ask(self, ws: websocket.WebSocket) -> int:
        question = f"person {self.number} asks question {self.answered + 1}"
        ws.send(json.dumps({"type": "text", "text": question}))
        while True:
            message = ws.recv()
            if isinstance(message, str) and (event := json.loads(message))["type"] == "reply_done":
                self.answered += 1
                return int(event["turn"])

    def _remember(self, ready: dict[str, Any]) -> None:
        self.credentials = {"session_id": ready["session_id"], "token": ready["resume_token"]}

    def run(self, finished: threading.Event) -> None:
        ws, ready = self._connect(None)
        self._remember(ready)
        self._ask(ws)
        self._ask(ws)
        ws.settimeout(0.5)
        while not finished.is_set():
            self.talking.set()
            try:
                ws.recv()
                continue
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketConnectionClosedException, OSError):
                closed_at = time.monotonic()
            self.talking.clear()
            before = self.answered
            try:
                ws, ready = self._connect({"type": "resume", **self.credentials})
            except (websocket.WebSocketException, OSError):
                self.moves.append({"resumed": False, "pause_ms": None, "lost": before})
                return
            pause_ms = (time.monotonic() - closed_at) * 1000.0
            history = ready.get("history") or []
            resumed = bool(ready.get("resumed"))
            lost = before - sum(1 for m in history if m["role"] == "assistant") if resumed else before
            self._remember(ready)
            turn = self._ask(ws)
            self.moves.append({"resumed": resumed, "pause_ms": round(pause_ms, 1), "lost": max(0, lost),
                               "next_turn_follows": turn == before + 1})
            ws.settimeout(0.5)
        ws.close()


def run(sessions: int) -> dict[str, Any]:
    with running_cluster(2, simulated=True) as (balancer, processes):
        people = [Person(balancer.ws_url, n) for n in range(sessions)]
        finished = threading.Event()
        with ThreadPoolExecutor(sessions) as pool:
            running = [pool.submit(p.run, finished) for p in people]
            for person in people:
                person.talking.wait(60)  # (each has asked its first two questions)
            for process in processes:  # the rolling restart
                moved_before = sum(len(p.moves) for p in people)
                process.stop()
                settle = time.monotonic() + 60
                while time.monotonic() < settle and not (
                        sum(len(p.moves) for p in people) > moved_before
                        and all(p.talking.is_set() for p in people)):
                    time.sleep(0.1)  # the moved sessions reconnect, resume and ask again
                process.start()
                # HAProxy puts it back after two good checks a second apart; it says so to nobody.
                time.sleep(2.5)
            finished.set()
            for future in running:
                future.result()
    moves = [m for p in people for m in p.moves]
    pauses = [m["pause_ms"] for m in moves if m["pause_ms"] is not None]
    return {
        "sessions": sessions, "processes": 2, "moves": len(moves),
        "resumed": sum(m["resumed"] for m in moves),
        "resumed_share": round(sum(m["resumed"] for m in moves) / len(moves), 3) if moves else None,
        "pause_p50_ms": percentile(pauses, 50), "pause_p95_ms": percentile(pauses, 95),
        "turns_lost": sum(m["lost"] for m in moves),
        "turn_numbers_continued": sum(bool(m.get("next_turn_follows")) for m in moves),
    }


def missed(figures: dict[str, Any]) -> list[str]:
    checks = {
        "every session whose process stopped moved": figures["moves"] >= figures["sessions"],
        "every move resumed": figures["resumed"] == figures["moves"],
        "no turn lost": figures["turns_lost"] == 0,
        "turn numbers went on": figures["turn_numbers_continued"] == figures["moves"],
    }
    return [name for name, met in checks.items() if not met]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--out", default="docs/results/rolling-restart.json")
    args = parser.parse_args(argv)
    figures = run(args.sessions)
    print(json.dumps(figures, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    failed = missed(figures)
    if failed:
        print("targets missed: " + "; ".join(failed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
