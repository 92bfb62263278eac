"""What one address may spend holds across processes: two ``SharedAddressBudgets`` on a
real Redis (Debian's redis-server, started by the test) stand for two processes serving
the same address."""

from __future__ import annotations

import redis

from core.session.shared_budgets import SharedAddressBudgets
from core.session.turn_budget import TokenBucket
from monitoring.servers.server_process import free_port


def roomy_session() -> TokenBucket:
    return TokenBucket(per_minute=6000, burst=1000, clock=lambda: 0.0)


def test_an_address_gets_its_turns_once_over_two_processes(redis_client) -> None:
    first = SharedAddressBudgets(redis_client, "turns", per_minute=6, burst=15)
    second = SharedAddressBudgets(redis_client, "turns", per_minute=6, burst=15)
    granted = [(first if n % 2 else second).turn_allowed("10.0.0.1", roomy_session()) for n in range(15)]
    assert granted == [0.0] * 15
    assert first.turn_allowed("10.0.0.1", roomy_session()) > 0  # each alone would have had 15
    assert second.turn_allowed("10.0.0.1", roomy_session()) > 0
    assert first.turn_allowed("10.0.0.2", roomy_session()) == 0.0  # another address is its own


def test_a_session_out_of_turns_takes_nothing_from_its_address(redis_client) -> None:
    budgets = SharedAddressBudgets(redis_client, "turns", per_minute=6, burst=2)
    spent = TokenBucket(per_minute=1, burst=1, clock=lambda: 0.0)
    spent.take()
    assert budgets.turn_allowed("10.0.0.3", spent) > 0
    assert budgets.turn_allowed("10.0.0.3", roomy_session()) == 0.0
    assert budgets.turn_allowed("10.0.0.3", roomy_session()) == 0.0


def test_reply_tokens_spent_in_pieces_on_two_processes_share_one_budget(redis_client) -> None:
    first = SharedAddressBudgets(redis_client, "reply_tokens", per_minute=100, burst=100)
    second = SharedAddressBudgets(redis_client, "reply_tokens", per_minute=100, burst=100)
    for _ in range(60):
        first.bucket("10.0.0.4").take(1.0)  # a reply streamed a piece at a time
    assert second.bucket("10.0.0.4").wait_s() == 0.0
    for _ in range(60):
        second.bucket("10.0.0.4").take(1.0)
    # 120 of 100 spent between them (each process sends its spending every 16 tokens, and
    # whatever it holds back when it next reads the budget).
    assert first.bucket("10.0.0.4").wait_s() > 0
    assert second.bucket("10.0.0.4").wait_s() > 0


def test_redis_out_of_reach_falls_back_to_the_process_alone_and_says_so() -> None:
    unreachable = redis.Redis(port=free_port(), socket_timeout=0.2, socket_connect_timeout=0.2)
    counted: list[int] = []
    budgets = SharedAddressBudgets(unreachable, "turns", per_minute=6, burst=2,
                                   on_fallback=lambda: counted.append(1))
    assert budgets.turn_allowed("10.0.0.5", roomy_session()) == 0.0
    assert budgets.turn_allowed("10.0.0.5", roomy_session()) == 0.0
    assert budgets.turn_allowed("10.0.0.5", roomy_session()) > 0  # this process's own 2 are spent
    assert budgets.fallbacks == len(counted) == 3
