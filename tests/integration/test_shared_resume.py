"""A conversation parked by one server process is resumed on another through Redis
(two real processes, Debian's redis-server started by the test): its history and turn
numbers go on; the parked copy works once and only with its token; with Redis gone the
resume is refused in words and the conversation's own process still resumes it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import websocket

from monitoring.clients.raw_socket import ask, events_until, until_closed
from monitoring.servers.redis_server import RedisServer
from monitoring.servers.server_process import ServerProcess
from monitoring.servers.simulated import SIMULATED_ENV
from tests.support.cluster import copied_to_redis


@pytest.fixture(scope="module")
def two_processes(redis_server: RedisServer) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {**SIMULATED_ENV, "VOICECHAT_REDIS_URL": redis_server.url}
    first, second = ServerProcess(env=env).start(), ServerProcess(env=env).start()
    yield first, second
    first.stop()
    second.stop()


def talk(server: ServerProcess, resume: dict | None = None) -> tuple[websocket.WebSocket, dict, list[dict]]:
    ws = websocket.create_connection(server.ws_url, timeout=20)
    if resume is not None:
        ws.send(json.dumps({"type": "resume", **resume}))
    seen = events_until(ws, "ready")
    if resume is not None:
        ws.send(json.dumps({"type": "ping", "t": 1}))  # anything the resume's answer comes before
        seen += events_until(ws, "pong")
    readies = [e for e in seen if e["type"] == "ready"]  # (a fresh session's, then the resumed one's)
    return ws, readies[-1], seen


def wait_parked_in_redis(redis_server: RedisServer, session_id: str) -> None:
    """Until the first process has noticed the dropped socket and parked the conversation."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    deadline = time.monotonic() + 10
    while not client.keys(f"voicechat:parked:{session_id}:*"):
        assert time.monotonic() < deadline, "never parked in Redis"
        time.sleep(0.02)  # polling Redis, which tells nobody
    client.close()


def test_a_conversation_goes_on_in_another_process(two_processes, redis_server) -> None:
    first, second = two_processes
    ws, ready, _ = talk(first)
    ask(ws, "Tell me about rivers.")
    done = ask(ws, "And mountains?")
    ws.close()  # the network drops: the conversation is parked (here and in Redis)
    credentials = {"session_id": ready["session_id"], "token": ready["resume_token"]}
    wait_parked_in_redis(redis_server, ready["session_id"])
    moved, resumed, seen = talk(second, credentials)
    assert resumed["resumed"] is True and resumed["session_id"] == ready["session_id"]
    assert [m["role"] for m in resumed["history"]] == ["user", "assistant", "user", "assistant"]
    assert not [e for e in seen if e["type"] == "error"]
    assert ask(moved, "What about lakes?")["turn"] == done["turn"] + 1  # the numbers go on
    moved.close()
    again, _, seen = talk(first, credentials)  # the old token, once more: it works once only
    assert any(e.get("code") == "resume_refused" for e in seen)
    again.close()


def test_redis_gone_refuses_a_move_in_words_but_not_a_resume_at_home(two_processes, redis_server) -> None:
    first, second = two_processes
    ws, ready, _ = talk(first)
    ask(ws, "Tell me about lanterns.")
    ws.close()
    credentials = {"session_id": ready["session_id"], "token": ready["resume_token"]}
    redis_server.stop()
    try:  # (parked at home, or still live there: either way only home can resume it)
        elsewhere, _, seen = talk(second, credentials)
        refused = [e for e in seen if e.get("code") == "resume_refused"]
        assert refused and "unreachable" in refused[0]["message"]
        elsewhere.close()
        home, resumed, _ = talk(first, credentials)
        assert resumed["resumed"] is True
        home.close()
    finally:
        redis_server.start()


def test_the_per_address_limit_holds_across_processes(redis_server) -> None:
    """Two processes, two sessions each allowed per address: the third from the same
    address is refused wherever it lands (each process alone would have room)."""
    env = {**SIMULATED_ENV, "VOICECHAT_REDIS_URL": redis_server.url,
           "VOICECHAT_MAX_SESSIONS_PER_ADDRESS": "2"}
    first, second = ServerProcess(env=env).start(), ServerProcess(env=env).start()
    sockets = []
    try:
        for server in (first, second):
            sockets.append(websocket.create_connection(server.ws_url, timeout=20))
            assert events_until(sockets[-1], "ready")[-1]["type"] == "ready"
        for server in (first, second):
            third = websocket.create_connection(server.ws_url, timeout=20)
            refused = json.loads(third.recv())
            assert (refused["type"], refused["code"]) == ("error", "address_limit"), refused
            third.close()
        sockets.pop().close()  # one leaves: its place is free again, on either process
        deadline = time.monotonic() + 10
        while True:
            again = websocket.create_connection(first.ws_url, timeout=20)
            answer = json.loads(again.recv())
            sockets.append(again)
            if answer["type"] == "ready":
                break
            again.close()
            sockets.pop()
            assert time.monotonic() < deadline, answer  # (the other process sees the close shortly)
            time.sleep(0.05)  # polling: the leaving socket is released by its process
    finally:
        for ws in sockets:
            ws.close()
        first.stop()
        second.stop()


def test_a_conversation_still_open_in_one_process_is_taken_over_by_another(two_processes,
                                                                          redis_server) -> None:
    """One process at a time: the same conversation resumed on another process while its
    first socket is still open (a duplicated tab) moves there; the first is told and
    closed. A wrong token moves nothing."""
    first, second = two_processes
    ws, ready, _ = talk(first)
    done = ask(ws, "Tell me about owls.")
    guess, _, seen = talk(second, {"session_id": ready["session_id"], "token": "not-the-token"})
    assert any(e.get("code") == "resume_refused" for e in seen)
    guess.close()
    assert ask(ws, "And about larks?")["type"] == "reply_done"  # untouched by the guess
    copied_to_redis(redis_server.url, ready["session_id"], messages=4)
    moved, resumed, seen = talk(second, {"session_id": ready["session_id"], "token": ready["resume_token"]})
    assert resumed["resumed"] is True and len(resumed["history"]) == 4, seen
    events, code, reason = until_closed(ws)
    assert any(e.get("code") == "resumed_elsewhere" for e in events)
    assert (code, reason) == (1008, "resumed_elsewhere")
    assert ask(moved, "What about swans?")["turn"] == done["turn"] + 2
    moved.close()
