"""The admin page's history: the monitor's figures a minute at a time, handed to the
store once a minute is over, and read back as chart buckets over hours or days."""

from __future__ import annotations

from types import SimpleNamespace

from components import admin_page, admin_range
from core.store.backend import MinuteRow
from core.store.conversations import ConversationStore
from core.store.metric_history import MetricHistory
from monitoring.metrics.minutes import MAX_CLOSED, MINUTE_S, MinuteLog, buckets_from_minutes
from monitoring.metrics.monitor import PerformanceMonitor
from monitoring.metrics.series import MAX_VALUES, ProcessReading
from tests.support.clock import ManualClock
from tests.unit.test_admin_page import T0, TOKEN, Probe, gate_of, runtime, timings

READING = ProcessReading(40.0, 100 * 2**20, 5)
M0 = 1_699_999_200.0  # the start of an hour (and of its minutes and 5 min buckets)


def test_a_minute_is_handed_over_once_time_has_moved_past_it() -> None:
    log = MinuteLog()
    log.add_turn(M0 + 1, timings(600.0))
    log.add_turn(M0 + 30, {})  # a typed turn: counted, no stage timings
    log.add_errors(M0 + 40, 2)
    log.add_reading(M0 + 50, 3, READING)
    assert log.take() == []  # (the minute is not over)
    log.add_reading(M0 + MINUTE_S + 1, 1, READING)
    [row] = log.take()
    assert (row.minute, row.turns, row.errors, row.sessions, row.cpu_percent) == (M0, 2, 2, 3, 40.0)
    assert row.stage_values["tts_first_audio_ms"] == [600.0] and row.rss_bytes == READING.rss_bytes
    assert log.take() == []


def test_minutes_nobody_takes_are_bounded() -> None:
    log = MinuteLog()
    for minute in range(MAX_CLOSED + 30):
        log.add_reading(M0 + minute * MINUTE_S, 0, READING)
    kept = log.take()
    assert len(kept) == MAX_CLOSED and kept[-1].minute == M0 + (MAX_CLOSED + 28) * MINUTE_S  # the newest


def row(minute: float, process: str, turns: int, v2v: list[float], sessions: int = 1) -> MinuteRow:
    return MinuteRow(minute, process, turns, 0, sessions, 30.0, 2**20, {"tts_first_audio_ms": v2v})


def test_every_processs_minutes_go_into_buckets_and_a_silent_bucket_is_a_gap() -> None:
    rows = [row(M0, "a", 2, [500.0, 700.0], sessions=2), row(M0, "b", 1, [900.0], sessions=3),
            row(M0 + 60, "a", 1, [400.0]), row(M0 + 600, "a", 4, [300.0] * 4)]
    buckets = buckets_from_minutes(rows, M0, M0 + 899, 300.0)
    assert [b["t"] for b in buckets] == [M0, M0 + 300, M0 + 600]
    first, gap, last = buckets
    assert first["turns"] == 4 and first["sessions"] == 5  # (two processes in one minute: 2 + 3)
    assert first["v2v_p50"] == 500.0  # (400, 500, 700, 900)
    assert first["v2v_p95"] == 900.0 and first["rss_bytes"] == 2 * 2**20  # (two processes at once)
    assert gap["turns"] == 0 and gap["sessions"] is None and gap["v2v_p50"] is None
    assert last["turns"] == 4 and last["turns_per_min"] == 0.8


def test_a_long_bucket_sorts_a_bounded_sample() -> None:
    rows = [row(M0 + m * MINUTE_S, "a", 200, [float(m)] * 200) for m in range(60)]
    [hour] = buckets_from_minutes(rows, M0, M0 + 3599, 3600.0)
    assert hour["turns"] == 60 * 200
    assert len(rows) * 200 > MAX_VALUES  # (more values than a bucket sorts: each minute gives a part)
    assert 25.0 <= hour["stage_p50"]["tts_first_audio_ms"] <= 35.0  # every minute is in it, evenly


def test_the_monitor_hands_finished_minutes_to_the_history() -> None:
    clock = ManualClock(M0)
    monitor = PerformanceMonitor(clock=clock, probe=Probe())
    kept: list[list[MinuteRow]] = []
    monitor.keep_history(kept.append)
    monitor.record_turn(timings(650.0), "s1")
    monitor.sample()
    clock.now += MINUTE_S
    monitor.sample()
    assert [[(r.minute, r.turns) for r in batch] for batch in kept] == [[(M0, 1)]]


def test_the_history_outlives_a_restart_and_the_admin_page_shows_it(tmp_path) -> None:
    store = ConversationStore(tmp_path / "conversations.db")
    history = MetricHistory(store.backend, process="host:1", clock=lambda: T0 + 600)
    fake, clock = runtime()
    fake.history = history
    fake.monitor.keep_history(history.record)
    for v2v in (500.0, 600.0, 700.0):
        fake.monitor.record_turn(timings(v2v), "abcdef0123456789")
    fake.monitor.sample()
    clock.now += MINUTE_S
    fake.monitor.sample()
    assert history.flush()
    history.close()
    store.close()

    reopened = ConversationStore(tmp_path / "conversations.db")  # (another process, later)
    after = SimpleNamespace(**{**vars(fake), "history": MetricHistory(reopened.backend, process="host:2")})
    try:
        view = admin_page.view(after, gate_of(after), TOKEN, "192.0.2.1", now=T0 + 600, range_key="6h")
        updated, v2v = view[5], view[7]
        assert "from the store" in updated and "5 min steps" in updated
        assert [p for p in v2v["data"][0]["y"] if p is not None] == [600.0]  # the minute before the restart
        live = admin_page.view(after, gate_of(after), TOKEN, "192.0.2.1", now=T0 + 600, range_key="1h")
        assert "10 s steps" in live[5]
    finally:
        after.history.close()
        reopened.close()


def test_without_a_store_only_the_live_hour_is_offered() -> None:
    fake, _ = runtime()
    series, note = admin_range.chart_series(fake, "7d", [{"t": T0}], T0)
    assert series == [{"t": T0}] and "10 s steps" in note
    options = admin_range.render(False).children[0].options
    assert [o["disabled"] for o in options] == [False, True, True, True]
