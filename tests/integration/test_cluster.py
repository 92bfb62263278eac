"""Two server processes behind Debian's HAProxy (the shipped deploy/haproxy/voicechat.cfg)
sharing Debian's Redis: a conversation whose process is stopped (SIGTERM, as a deploy
does) is told, reconnects through the balancer, and goes on in the other process with its
history and turn numbers."""

from __future__ import annotations

import json
import time

import pytest
import websocket

from monitoring.clients.raw_socket import ask, events_until, until_closed
from monitoring.servers.haproxy import Haproxy
from monitoring.servers.server_process import free_port
from tests.support.cluster import active_sessions, cluster, cluster_services, copied_to_redis, two_machines

__all__ = ["cluster", "cluster_services", "two_machines"]  # (the fixtures)

def connect(balancer: Haproxy, first: dict | None = None) -> tuple[websocket.WebSocket, list[dict]]:
    """Through the balancer, once it has a worker up (its health checks run every second)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            ws = websocket.create_connection(balancer.ws_url, timeout=20)
            break
        except (websocket.WebSocketBadStatusException, ConnectionError):
            assert time.monotonic() < deadline, "the balancer never had a worker up"
            time.sleep(0.2)  # polling the balancer's view of its workers
    if first is not None:
        ws.send(json.dumps(first))
    seen = events_until(ws, "ready")
    if first is not None:
        ws.send(json.dumps({"type": "ping", "t": 1}))
        seen += events_until(ws, "pong")
    return ws, seen


def resume_through(balancer: Haproxy, ready: dict) -> tuple[websocket.WebSocket, dict, list[dict]]:
    """Resume the conversation of ``ready`` through the balancer: the socket, the resumed
    ``ready`` and everything received."""
    ws, seen = connect(balancer, {"type": "resume", "session_id": ready["session_id"],
                                  "token": ready["resume_token"]})
    return ws, [e for e in seen if e["type"] == "ready"][-1], seen


def two_questions(balancer: Haproxy, first: str, second: str) -> tuple[websocket.WebSocket, dict, dict]:
    """A conversation through the balancer with two answered questions: the socket, its
    ``ready`` and the second answer's end."""
    ws, seen = connect(balancer)
    ask(ws, first)
    return ws, seen[-1], ask(ws, second)


def until_dropped(ws: websocket.WebSocket) -> None:
    """Read until the socket is cut (its process is gone)."""
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError, OSError)):
        while True:
            ws.recv()


def test_a_conversation_survives_its_process_being_stopped(cluster) -> None:
    balancer, workers = cluster
    ws, ready, done = two_questions(balancer, "Tell me about rivers.", "And about mountains?")
    serving = next(w for w in workers if active_sessions(w) == 1)
    other = next(w for w in workers if w is not serving)
    serving.stop()  # SIGTERM: the deploy's restart of this process
    told, close_code, _ = until_closed(ws)
    assert close_code == 1012 and any(e.get("code") == "server_restarting" for e in told)
    again, resumed, seen = resume_through(balancer, ready)
    assert resumed["resumed"] is True, seen
    assert [m["role"] for m in resumed["history"]] == ["user", "assistant", "user", "assistant"]
    assert ask(again, "What about lakes?")["turn"] == done["turn"] + 1
    assert active_sessions(other) == 1
    again.close()


def test_a_conversation_survives_its_process_being_killed(cluster) -> None:
    """SIGKILL: nothing runs in the dying process, so the conversation goes on from the
    copy each reply left in Redis."""
    balancer, workers = cluster
    ws, ready, done = two_questions(balancer, "Tell me about comets.", "And about harbors?")
    serving = next(w for w in workers if active_sessions(w) == 1)
    other = next(w for w in workers if w is not serving)
    copied_to_redis(workers[0].env["VOICECHAT_REDIS_URL"], ready["session_id"], messages=4)
    serving.kill()
    until_dropped(ws)
    again, resumed, seen = resume_through(balancer, ready)
    assert resumed["resumed"] is True, seen
    assert [m["role"] for m in resumed["history"]] == ["user", "assistant", "user", "assistant"]
    assert ask(again, "What about lakes?")["turn"] == done["turn"] + 1
    assert active_sessions(other) == 1
    again.close()


def test_a_lost_machine_moves_its_conversation_to_the_other_machine(two_machines) -> None:
    """A machine lost: both processes of the serving group killed at once; the
    conversation goes on in the other group, through the same balancer."""
    balancer, machines = two_machines
    ws, ready, done = two_questions(balancer, "Tell me about bridges.", "And about ferries?")
    lost = next(m for m in machines if sum(active_sessions(w) for w in m) == 1)
    remaining = next(m for m in machines if m is not lost)
    copied_to_redis(lost[0].env["VOICECHAT_REDIS_URL"], ready["session_id"], messages=4)
    for worker in lost:
        worker.kill()
    until_dropped(ws)
    again, resumed, seen = resume_through(balancer, ready)
    assert resumed["resumed"] is True and len(resumed["history"]) == 4, seen
    assert ask(again, "What about tunnels?")["turn"] == done["turn"] + 1
    assert sum(active_sessions(w) for w in remaining) == 1
    again.close()


def test_redis_going_away_and_coming_back_under_a_conversation(cluster_services) -> None:
    """Redis killed (it comes back empty: no persistence): the conversation goes on,
    and once Redis is back the next reply's copy makes a move possible again."""
    balancer, workers, redis_server = cluster_services
    ws, seen = connect(balancer)
    ready = seen[-1]
    ask(ws, "Tell me about violins.")
    redis_server.kill()
    assert ask(ws, "And about trains?")["type"] == "reply_done"  # nothing waits on Redis
    redis_server.start()
    done = ask(ws, "And about clocks?")  # its copy goes to the Redis that is back
    copied_to_redis(redis_server.url, ready["session_id"], messages=6)
    serving = next(w for w in workers if active_sessions(w) == 1)
    serving.stop()
    until_dropped(ws)
    again, resumed, seen = resume_through(balancer, ready)
    assert resumed["resumed"] is True and len(resumed["history"]) == 6
    assert ask(again, "What about lakes?")["turn"] == done["turn"] + 1
    again.close()


def test_run_cluster_starts_everything_and_ctrl_c_stops_everything() -> None:
    import re
    import signal
    import subprocess
    import sys

    from monitoring.servers.server_process import port_open
    from tests.conftest import ROOT

    port = free_port()
    command = [sys.executable, "-m", "monitoring.servers.cluster", "--workers", "2", "--simulated",
               "--port", str(port)]
    runner = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert runner.stdout is not None
        ready = runner.stdout.readline()  # (blocks until the cluster says it is ready)
        assert "cluster ready" in ready, ready
        worker_ports = [int(p) for p in re.search(r"ports ([\d, ]+);", ready).group(1).split(", ")]
        ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws/voice", timeout=20)
        events_until(ws, "ready")
        assert ask(ws, "Tell me about harbors.")["type"] == "reply_done"  # through the balancer
        ws.close()
        runner.send_signal(signal.SIGINT)
        assert runner.wait(60) == 0
        assert not any(port_open(p) for p in (port, *worker_ports))
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(10)


def test_any_process_shows_the_whole_cluster_to_an_admin(cluster) -> None:
    import urllib.request

    from tests.support.cluster import TOKEN

    balancer, workers = cluster
    ws, _ = connect(balancer)
    ask(ws, "Tell me about gardens.")
    for worker in workers:  # the same view from each process
        request = urllib.request.Request(worker.http_url + "/api/cluster",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            view = json.load(answer)
        assert view["totals"]["processes"] == 2 and view["totals"]["answering"] == 2
        assert view["totals"]["active_sessions"] == 1 and view["totals"]["turns"] == 1
        assert sorted(p["url"] for p in view["processes"]) == sorted(w.http_url for w in workers)
        assert sum(p["this_process"] for p in view["processes"]) == 1
        assert all(p["rss_mb"] > 0 for p in view["processes"])
    ws.close()
    unauthorized = urllib.request.Request(workers[0].http_url + "/api/cluster")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unauthorized, timeout=10)
    assert refused.value.code == 401
