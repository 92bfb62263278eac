"""``make bench-outage``: Redis and PostgreSQL killed under a running load test, then
started again, and what it cost.

The scaled setup on this machine (``make run-cluster``'s Redis, PostgreSQL, HAProxy and
two processes, simulated providers) carries the load tester's spoken sessions through the
balancer. Meanwhile Redis is killed (SIGKILL: it comes back empty, as configured here,
without persistence) and started again, then PostgreSQL likewise (it comes back with its
data). Figures: turns answered and failed, sessions that failed, voice-to-voice
p50/p95, what the processes counted (store writes that were late or refused, limits
that fell back to one process, parking copies that could not be made), and, once
PostgreSQL is back, the stored turns against the turns answered. Exits non-zero when a
session fails, a process dies, or an answered turn is missing from the store after the
recovery; saves docs/results/outage.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from monitoring.bench.under_load import admin_cluster, load_while
from monitoring.metrics.cluster_view import admin_metrics
from monitoring.servers.cluster import Cluster

COUNTERS = ("store_slow", "store_failed", "store_full", "shared_limits_unavailable",
            "parking_unavailable", "resume_refused")
STORED_WAIT_S = 60.0  # for the queued writes to land once PostgreSQL is back


def _counters(cluster: Cluster, token: str) -> dict[str, int]:
    totals = dict.fromkeys(COUNTERS, 0)
    for process in cluster.processes:
        figures = admin_metrics(process.http_url, token, timeout_s=5)
        if figures is None:
            raise RuntimeError(f"{process.http_url} did not give its metrics")
        counters = figures["counters"]
        for name in COUNTERS:
            totals[name] += int(counters.get(name, 0))
    return totals


def _stored_answers(url: str) -> int:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as connection:
        row = connection.execute("SELECT count(*) FROM turns WHERE role = 'assistant'").fetchone()
    return int(row[0]) if row else 0


def _outages(cluster: Cluster, start_s: float, down_s: float, timeline: list[dict[str, Any]],
             stop: threading.Event) -> None:
    """Redis down at ``start_s`` for ``down_s``, then PostgreSQL after as long again."""
    began = time.monotonic()
    steps = [(start_s, "redis killed", cluster.redis.kill),
             (start_s + down_s, "redis started", cluster.redis.start),
             (start_s + 2 * down_s, "postgres killed", cluster.postgres.kill),
             (start_s + 3 * down_s, "postgres started", cluster.postgres.start)]
    for at, what, act in steps:
        if stop.wait(max(0.0, began + at - time.monotonic())):
            return
        act()
        timeline.append({"at_s": round(time.monotonic() - began, 1), "event": what})


def run(sessions: int, turns: int, start_s: float, down_s: float) -> dict[str, Any]:
    with admin_cluster() as (cluster, token):
        timeline: list[dict[str, Any]] = []
        report = load_while(cluster, sessions, turns,
                            lambda stop: _outages(cluster, start_s, down_s, timeline, stop), "outages", 60)
        counters = _counters(cluster, token)
        alive = all(p.process is not None and p.process.poll() is None for p in cluster.processes)
        deadline = time.monotonic() + STORED_WAIT_S
        stored = _stored_answers(cluster.postgres.url)
        while stored < report.turns.ok and time.monotonic() < deadline:
            time.sleep(1.0)  # the processes' writers retry on their own; polling the result
            stored = _stored_answers(cluster.postgres.url)
    return {"sessions": sessions, "turns_per_session": turns, "timeline": timeline,
            "sessions_ok": report.sessions.ok, "sessions_failed": report.sessions.failed,
            "turns_ok": report.turns.ok, "turns_failed": report.turns.failed + report.turns.not_run,
            "v2v_p50_ms": report.v2v_ms.p50, "v2v_p95_ms": report.v2v_ms.p95, "v2v_max_ms": report.v2v_ms.max,
            "counters": counters, "processes_alive": alive, "answers_stored": stored,
            "answers_missing": max(0, report.turns.ok - stored)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--start", type=float, default=12.0, help="seconds before Redis is killed")
    parser.add_argument("--down", type=float, default=8.0, help="seconds each service stays down")
    parser.add_argument("--out", type=Path, default=Path("docs/results/outage.json"))
    args = parser.parse_args(argv)
    figures = run(args.sessions, args.turns, args.start, args.down)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))
    checks = (("a session failed", figures["sessions_failed"] > 0),
              ("a process died", not figures["processes_alive"]),
              ("answered turns missing from the store", figures["answers_missing"] > 0))
    missed = [what for what, bad in checks if bad]
    if missed:
        print("missed: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
