from __future__ import annotations

from core.transport.flood_guard import SUM_EVERY, FloodGuard, Verdict
from tests.support.clock import ManualClock


def guard(clock: ManualClock) -> FloodGuard:
    return FloodGuard(per_second=10, max_messages=5, max_bytes=1000, max_message_bytes=600, clock=clock)


def test_a_burst_passes_then_messages_are_dropped_with_one_warning_a_second() -> None:
    clock = ManualClock(0.0)
    g = guard(clock)
    assert [g.admit() for _ in range(20)] == [Verdict.ACCEPT] * 20  # the burst: 2 s worth
    assert g.admit() is Verdict.DROP_AND_WARN
    assert g.admit() is Verdict.DROP
    clock.now += 0.5  # five more allowed
    assert [g.admit() for _ in range(5)] == [Verdict.ACCEPT] * 5
    assert g.admit() is Verdict.DROP  # warned half a second ago
    clock.now += 0.6
    assert [g.admit() for _ in range(6)] == [Verdict.ACCEPT] * 6
    assert g.admit() is Verdict.DROP_AND_WARN  # over a second since the last warning
    assert g.dropped == 4


def test_a_client_that_keeps_flooding_is_closed() -> None:
    clock = ManualClock(0.0)
    g = guard(clock)
    verdicts = []
    for _ in range(400):  # 100 a second for 4 s, ten times the rate
        clock.now += 0.01
        verdicts.append(g.admit())
    assert Verdict.CLOSE in verdicts
    assert verdicts.index(Verdict.CLOSE) > 300  # not before the 3 s of patience


def test_a_client_back_under_the_rate_is_forgiven() -> None:
    clock = ManualClock(0.0)
    g = guard(clock)
    for _ in range(100):
        clock.now += 0.01
        g.admit()
    clock.now += 10.0  # quiet for a while
    verdicts = []
    for _ in range(300):
        clock.now += 0.2  # five a second: well under the rate
        verdicts.append(g.admit())
    assert set(verdicts) == {Verdict.ACCEPT}


def test_the_backlog_is_bounded_in_messages_and_in_bytes() -> None:
    g = guard(ManualClock(0.0))
    assert not g.backlog_too_big([b"x"] * 5)
    assert g.backlog_too_big([b"x"] * 6)
    assert not g.backlog_too_big([b"x" * 500])  # 1 x 600 max cannot be over: not summed
    big = [b"x" * 500, "y" * 501]
    assert guard(ManualClock(0.0)).backlog_too_big(big)  # the first backlog that could be over is summed
    later = guard(ManualClock(0.0))
    assert not later.backlog_too_big([b"x" * 400, "y" * 500])
    # Then bytes are counted every SUM_EVERY messages: caught within that many.
    assert True in [later.backlog_too_big(big) for _ in range(SUM_EVERY)]
