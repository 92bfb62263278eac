"""``make bench-restart``: every process of the cluster stopped in turn under a running
load test, and what the people talking noticed.

The scaled setup on this machine (``make run-cluster``'s Redis, PostgreSQL, HAProxy and
two processes, simulated providers) carries the load tester's spoken sessions through the
balancer. Two rounds, each on a fresh cluster:

- **restart**: each process in turn gets SIGTERM (as a deploy does: it tells its clients
  ``server_restarting``, parks their conversations in Redis and exits) and is started
  again once its sessions have come back elsewhere;
- **kill**: the same with SIGKILL (a crash: no word to anyone; the conversations resume
  from the copy written after each reply).

The load tester follows its sessions as the page does (reconnect, ``resume``). Figures
per round: moves (a session whose process went away), the share resumed (target 100 %),
the pause from the close to the resumed ``ready`` (p50/p95: the silence a person
hears), turns lost (answered before the move, missing from the history after it;
target 0), questions asked again (cut mid-way by the move), failed sessions and turns
(target 0). Exits non-zero on a missed target; saves docs/results/rolling-restart.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitoring.bench.under_load import admin_cluster, load_while
from monitoring.metrics.cluster_view import admin_metrics
from monitoring.servers.cluster import Cluster
from monitoring.servers.server_process import ServerProcess

MODES = {"restart": ("stop", "stop"), "kill": ("kill", "kill")}
MODE_NAMES = {downs: name for name, downs in MODES.items()}
SETTLE_S = 60.0  # for the moved sessions to come back before the next process goes
POLL_S = 0.2


def served(processes: list[ServerProcess], token: str) -> tuple[int, int]:
    """Sessions served now and turns answered since start, over the processes that answer."""
    sessions = turns = 0
    for process in processes:
        if process.process is None or process.process.poll() is not None:
            continue
        figures = admin_metrics(process.http_url, token, timeout_s=2)
        if figures:
            sessions += int(figures["pool"]["active"])
            turns += int(figures["counters"].get("turns", 0))
    return sessions, turns


def _until(condition: Any, timeout_s: float, stop: threading.Event) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline or stop.wait(POLL_S):  # polling the servers' own figures
            return False
    return True


def _roll(cluster: Cluster, downs: Sequence[str], sessions: int, token: str,
          timeline: list[dict[str, Any]], stop: threading.Event) -> None:
    """Once every session talks: each process in turn taken down and started again, the
    next one only after the sessions are all served again."""
    began = time.monotonic()

    def note(event: str) -> None:
        timeline.append({"at_s": round(time.monotonic() - began, 1), "event": event})

    all_back = lambda: served(cluster.processes, token)[0] >= sessions  # noqa: E731
    # Each session greeted and one question answered, about: a conversation to move.
    talking = lambda: served(cluster.processes, token)[1] >= 2 * sessions  # noqa: E731
    if not (_until(all_back, SETTLE_S, stop) and _until(talking, SETTLE_S, stop)):
        note("the sessions never all talked at once")
        return
    for number, (process, down) in enumerate(zip(cluster.processes, downs, strict=True), 1):
        (process.stop if down == "stop" else process.kill)()
        note(f"process {number} {'stopped' if down == 'stop' else 'killed'}")
        came_back = _until(all_back, SETTLE_S, stop)
        process.start(timeout_s=120)
        note(f"process {number} started" + ("" if came_back else " (its sessions had not all come back)"))
        if _until(lambda: process.port in cluster.balancer.servers_up(), SETTLE_S, stop):  # noqa: B023
            note(f"process {number} back in the balancer")
        if stop.is_set():
            return


def run(downs: Sequence[str], sessions: int, turns: int) -> dict[str, Any]:
    """``downs``: how each process in turn goes down, "stop" (SIGTERM) or "kill" (SIGKILL)."""
    with admin_cluster() as (cluster, token):
        timeline: list[dict[str, Any]] = []
        report = load_while(cluster, sessions, turns,
                            lambda stop: _roll(cluster, downs, sessions, token, timeline, stop),
                            "rolling-restart", 180)
    m = report.moves
    return {"mode": MODE_NAMES.get(tuple(downs), "+".join(downs)), "sessions": sessions,
            "turns_per_session": turns, "timeline": timeline,
            "moves": m.moves, "owed_a_resume": m.owed, "resumed": m.resumed,
            "resumed_share": round(m.resumed / m.owed, 3) if m.owed else None,
            "pause_p50_ms": m.pause_p50_ms, "pause_p95_ms": m.pause_p95_ms, "pause_max_ms": m.pause_max_ms,
            "turns_lost": m.turns_lost, "not_resumed": m.not_resumed_reasons,
            "questions_asked_again": report.turns.asked_again,
            "sessions_ok": report.sessions.ok, "sessions_failed": report.sessions.failed,
            "turns_ok": report.turns.ok, "turns_failed": report.turns.failed + report.turns.not_run,
            "failures": {**report.turns.failure_reasons, **report.sessions.failure_reasons},
            "v2v_p50_ms": report.v2v_ms.p50, "v2v_p95_ms": report.v2v_ms.p95}


def missed(figures: dict[str, Any]) -> list[str]:
    processes_down = sum("stopped" in e["event"] or "killed" in e["event"] for e in figures["timeline"])
    checks = {
        "both processes went down under the load": processes_down == 2,
        "every session moved at least once": figures["moves"] >= figures["sessions"],
        "every move resumed": figures["resumed"] == figures["owed_a_resume"] == figures["moves"],
        "no turn lost": figures["turns_lost"] == 0,
        "no session failed": figures["sessions_failed"] == 0,
        "no turn failed": figures["turns_failed"] == 0,
    }
    return [f"{figures['mode']}: {name}" for name, met in checks.items() if not met]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--modes", nargs="+", choices=tuple(MODES), default=list(MODES))
    parser.add_argument("--out", type=Path, default=Path("docs/results/rolling-restart.json"))
    args = parser.parse_args(argv)
    rounds = [run(MODES[mode], args.sessions, args.turns) for mode in args.modes]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rounds, indent=1) + "\n")
    print(json.dumps(rounds, indent=1))
    failed = [what for figures in rounds for what in missed(figures)]
    if failed:
        print("targets missed: " + "; ".join(failed), file=sys.stderr)
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
