"""Limits that hold when the server is reachable by others: the real client behind a
trusted proxy, IPv6 clients counted by their /64, typed turns budgeted per session and
per address, and the shared model workers fair to every session."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence

import pytest
import websocket

from core.providers.base import Message, Providers
from core.session.turn_budget import AddressBudgets, ReplyBudget, TokenBucket
from core.settings import Settings, SettingsError
from core.transport.client_address import ClientAddresses, client_address, trusted_networks
from monitoring.clients.raw_socket import events_until
from monitoring.servers.inprocess_server import InProcessServer
from tests.support.clock import ManualClock
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS

PROXY = {"REMOTE_ADDR": "10.0.0.5"}
WORDS = ("apples bread cheese dogs eagles fish goats hills ice jam kites lemons maps nets owls "
         "pears quilts rivers salt tea").split()


def who(environ: dict[str, str], trusted: str = "10.0.0.0/8") -> str:
    return ClientAddresses(trusted_networks(trusted)).client(environ)


def test_forwarded_addresses_are_believed_only_from_trusted_proxies() -> None:
    assert who({**PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.7"}) == "203.0.113.7"
    # A client behind two proxies; the left-most entry is whatever the client wrote.
    assert who({**PROXY, "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.7, 10.0.0.9"}) == "203.0.113.7"
    assert who({"REMOTE_ADDR": "198.51.100.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}) == "198.51.100.2"
    assert who({**PROXY, "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, trusted="") == "10.0.0.5"
    assert who({**PROXY, "HTTP_X_FORWARDED_FOR": "not-an-address"}) == "10.0.0.5"
    assert who({**PROXY, "HTTP_X_FORWARDED_FOR": "[2001:db8::1]:4711"}) == "2001:db8::/64"
    assert who({"REMOTE_ADDR": ""}) == "?"
    assert client_address({"REMOTE_ADDR": "::ffff:192.0.2.1"}) == "192.0.2.1"


def test_ipv6_clients_are_one_client_per_64() -> None:
    a = who({"REMOTE_ADDR": "2001:db8:1:2::1"})
    b = who({"REMOTE_ADDR": "2001:db8:1:2:ffff:ffff:ffff:fffe"})
    c = who({"REMOTE_ADDR": "2001:db8:1:3::1"})
    assert a == b == "2001:db8:1:2::/64" and c != a


def test_a_proxy_list_that_is_not_addresses_stops_the_start() -> None:
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({"VOICECHAT_TRUSTED_PROXIES": "10.0.0.1, proxy.example"})


def test_typed_turns_come_in_a_burst_then_at_the_rate() -> None:
    clock = ManualClock()
    budgets = AddressBudgets(per_minute=60, clock=clock)
    session = TokenBucket(per_minute=20, burst=5, clock=clock)
    assert [budgets.turn_allowed("a", session) for _ in range(5)] == [0.0] * 5
    wait = budgets.turn_allowed("a", session)
    assert wait == pytest.approx(3.0)  # one turn every 3 s at 20 a minute
    clock.advance(3.0)
    assert budgets.turn_allowed("a", session) == 0.0


def test_sessions_of_one_address_share_its_budget() -> None:
    clock = ManualClock()
    budgets = AddressBudgets(per_minute=60, clock=clock)
    taken = 0
    for _ in range(10):  # ten sessions of the same address, five turns each
        session = TokenBucket(per_minute=20, burst=5, clock=clock)
        taken += sum(budgets.turn_allowed("a", session) == 0.0 for _ in range(5))
    assert taken == 15
    assert budgets.turn_allowed("b", TokenBucket(20, 5, clock)) == 0.0  # others are not affected


# ----- on a real server ---------------------------------------------------------------------
class SlowFakeLLM(FakeLLM):
    """A fake model that takes a while before its first word (as a real one does while
    it reads the prompt), whether or not the turn is still wanted."""

    name = "slow-fake-llm"

    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        time.sleep(0.3)  # the model's own latency, not a wait for anything
        yield from super().stream_reply(history, user_text, avoid)


def serve(**changes: object) -> InProcessServer:
    settings = Settings().replace(greeting_after_ms=0, db_path="", **changes)
    return InProcessServer(settings, Providers(FakeSTT(), SlowFakeLLM(), FakeTTS())).start()


def open_socket(server: InProcessServer, forwarded: str | None = None) -> websocket.WebSocket:
    headers = [f"X-Forwarded-For: {forwarded}"] if forwarded else []
    return websocket.create_connection(server.ws_url, header=headers, timeout=10)


def first_event(ws: websocket.WebSocket) -> dict:
    return json.loads(ws.recv())


def test_people_behind_a_trusted_proxy_are_counted_apart_and_ipv6_by_64() -> None:
    server = serve(max_sessions_per_address=2, trusted_proxies="127.0.0.1")
    sockets = []
    try:
        for client in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):  # once: all the proxy's
            sockets.append(open_socket(server, client))
            assert first_event(sockets[-1])["type"] == "ready", client
        for client in ("2001:db8::1", "2001:db8::2"):
            sockets.append(open_socket(server, client))
            assert first_event(sockets[-1])["type"] == "ready"
        sockets.append(open_socket(server, "2001:db8::3"))  # the same /64: its third
        refused = first_event(sockets[-1])
        assert (refused["type"], refused["code"]) == ("error", "address_limit")
    finally:
        for ws in sockets:
            ws.close()
        server.stop()


def test_forwarded_headers_from_anyone_else_change_nothing() -> None:
    server = serve(max_sessions_per_address=2)
    sockets = []
    try:
        # (one after the other: connections opened at once are admitted in any order)
        seen = []
        for client in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            sockets.append(open_socket(server, client))
            event = first_event(sockets[-1])
            seen.append(event.get("code", event["type"]))
        assert seen == ["ready", "ready", "address_limit"]
    finally:
        for ws in sockets:
            ws.close()
        server.stop()


def test_one_client_typing_as_fast_as_it_can_leaves_the_others_answered() -> None:
    """Once, every typed message opened a turn on the shared workers: a script filled
    them all and everyone else was told "busy"."""
    server = serve()
    flooder, person = open_socket(server, None), open_socket(server, None)
    try:
        for ws in (flooder, person):
            first_event(ws)
        for number in range(40):  # all different (the same words again are not answered)
            topics = f"{WORDS[number % 20]} and {WORDS[number // 2]}"
            flooder.send(json.dumps({"type": "text", "text": f"tell me about {topics}"}))
        person.send(json.dumps({"type": "text", "text": "What is the capital of France?"}))
        seen = events_until(person, "reply_done")
        assert not [e for e in seen if e["type"] == "error"], seen
        refused = 0
        while refused < 30:  # (a few may get in as the bucket refills)
            refused += events_until(flooder, "error")[-1]["code"] == "rate_limited"
        assert server.monitor.snapshot()["counters"]["error:rate_limited"] >= 30
    finally:
        flooder.close()
        person.close()
        server.stop()


def test_reply_tokens_are_budgeted_per_session_and_per_address() -> None:
    clock = ManualClock()
    address = TokenBucket(per_minute=100, burst=100, clock=clock)
    first = ReplyBudget.for_session(60, address, clock)
    first.spend(60)
    assert first.wait_s() == pytest.approx(1.0)  # its own minute's worth is spent
    second = ReplyBudget.for_session(60, address, clock)
    second.spend(40)
    assert second.wait_s() > 0  # the address's 100 are spent by the two
    clock.advance(60)
    assert first.wait_s() == 0 and second.wait_s() == 0


def test_a_session_past_its_reply_budget_is_told_to_wait() -> None:
    server = serve(reply_tokens_per_minute=10)  # the fake's reply is 6 pieces
    ws = open_socket(server)
    try:
        first_event(ws)
        answers = []
        for topic in ("rivers", "mountains", "lanterns"):
            ws.send(json.dumps({"type": "text", "text": f"tell me about {topic}"}))
            answers.append(events_until(ws, "reply_done" if len(answers) < 2 else "error")[-1])
        refused = answers[-1]
        assert refused["code"] == "rate_limited" and "replies" in refused["message"]
        assert "try again in" in refused["message"] and "provider" not in refused
    finally:
        ws.close()
        server.stop()
