"""The performance monitor: bounded windows, time buckets on an injected clock, percentiles."""

from __future__ import annotations

import pytest

from monitoring.metrics.monitor import PerformanceMonitor, ProcessReading
from monitoring.metrics.series import BUCKET_S, percentile
from tests.support.clock import ManualClock


class FakeProbe:
    def __init__(self) -> None:
        self.reads = 0
        self.cpu = 12.5
        self.rss = 300 * 2**20

    def read(self) -> ProcessReading:
        self.reads += 1
        return ProcessReading(self.cpu, self.rss, 7)


def monitor(clock: ManualClock, **kwargs: int) -> tuple[PerformanceMonitor, FakeProbe]:
    probe = FakeProbe()
    return PerformanceMonitor(clock=clock, probe=probe, **kwargs), probe


def turn(v2v: float, **stages: float) -> dict[str, float]:
    return {"endpoint_ms": 200.0, "transcript_ms": 150.0, "llm_first_token_ms": 300.0,
            "llm_first_sentence_ms": 400.0, "tts_first_audio_ms": v2v, "total_ms": v2v + 900, **stages}


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_windows_and_recent_turns_are_bounded() -> None:
    clock = ManualClock(1_000_000.0)
    mon, _ = monitor(clock, window=10, recent=5, buckets=4)
    for i in range(50):
        mon.record_turn(turn(float(i)), f"session-{i:04d}-long-id")
        mon.record_barge_in(float(i))
        clock.now += 1.0
    snapshot = mon.snapshot()
    assert snapshot["stages"]["tts_first_audio_ms"]["n"] == 10
    assert snapshot["voice_to_voice"]["p50"] == 44.0  # the last ten: 40..49
    assert snapshot["barge_in"] == {"p50": 44.0, "p95": 49.0, "n": 10}
    assert len(mon.recent_turns(100)) == 5
    clock.now += 3600.0
    assert len(mon.series()) == 4


def test_recent_turns_are_newest_first_with_a_short_session_id() -> None:
    clock = ManualClock(1_000_000.0)
    mon, _ = monitor(clock)
    mon.record_turn(turn(700.0), "0123456789abcdef")
    clock.now += 2.0
    mon.record_turn(turn(800.0), None)
    recent = mon.recent_turns(10)
    assert [r["timings"]["tts_first_audio_ms"] for r in recent] == [800.0, 700.0]
    assert recent[0]["session"] is None and recent[1]["session"] == "01234567"
    assert recent[0]["t"] == clock.now and recent[1]["t"] == clock.now - 2.0
    assert mon.recent_turns(1)[0]["timings"]["tts_first_audio_ms"] == 800.0


def test_buckets_roll_over_on_the_clock_with_their_own_percentiles() -> None:
    clock = ManualClock(1_000_000.0)  # a bucket boundary
    mon, _ = monitor(clock)
    for v2v in (100.0, 200.0, 300.0, 400.0):
        mon.record_turn(turn(v2v))
    clock.now += BUCKET_S  # the next bucket
    mon.record_turn(turn(900.0, endpoint_ms=250.0))
    buckets = mon.series()
    assert [b["t"] for b in buckets] == [1_000_000.0, 1_000_000.0 + BUCKET_S]
    first, second = buckets
    assert (first["turns"], first["v2v_p50"], first["v2v_p95"]) == (4, 200.0, 400.0)
    assert first["turns_per_min"] == 4 * 60 / BUCKET_S
    assert first["stage_p50"]["llm_first_token_ms"] == 300.0
    assert (second["turns"], second["v2v_p50"], second["stage_p50"]["endpoint_ms"]) == (1, 900.0, 250.0)
    clock.now += 3 * BUCKET_S  # quiet buckets are there, empty
    buckets = mon.series()
    assert len(buckets) == 5 and buckets[-1]["turns"] == 0 and buckets[-1]["v2v_p50"] is None


def test_errors_count_in_the_bucket_they_happened_in() -> None:
    clock = ManualClock(1_000_000.0)
    mon, _ = monitor(clock)
    mon.count("error:busy")
    mon.count("error:provider_failed", 2)
    mon.count("barge_ins")  # not an error
    clock.now += BUCKET_S + 1.0
    mon.count("error:busy")
    clock.now += 2 * BUCKET_S  # folded only now
    assert [b["errors"] for b in mon.series()] == [3, 1, 0, 0]
    assert mon.snapshot()["counters"]["error:busy"] == 2


def test_turns_and_errors_folded_together_keep_their_buckets() -> None:
    clock = ManualClock(1_000_000.0)
    mon, _ = monitor(clock)
    mon.count("error:busy")
    clock.now += BUCKET_S
    mon.record_turn(turn(700.0))
    clock.now += BUCKET_S
    mon.count("error:internal")
    assert [(b["turns"], b["errors"]) for b in mon.series()] == [(0, 1), (1, 0), (0, 1)]


def test_the_sampler_reads_the_process_and_sessions_per_bucket() -> None:
    clock = ManualClock(1_000_000.0)
    mon, probe = monitor(clock)
    mon.session_opened()
    mon.session_opened()
    mon.sample_if_due()
    reads = probe.reads
    clock.now += 1.0
    mon.sample_if_due()  # not due yet
    assert probe.reads == reads
    mon.session_closed()
    probe.cpu = 37.5
    clock.now += 5.0
    mon.sample_if_due()
    clock.now += BUCKET_S
    mon.sample()
    first, second = mon.series()[:2]
    # Two readings in the first bucket: the most sessions seen, the mean CPU.
    assert first["sessions"] == 2 and first["cpu_percent"] == 25.0 and first["rss_bytes"] == probe.rss
    assert second["sessions"] == 1 and second["cpu_percent"] == 37.5
    snapshot = mon.snapshot()
    assert snapshot["process"]["cpu_percent"] == 37.5 and snapshot["active_sessions"] == 1
    assert probe.reads == reads + 2  # reading the snapshot or series never reads the CPU


def test_a_snapshot_before_any_sample_takes_one() -> None:
    mon, probe = monitor(ManualClock(1_000_000.0))
    assert mon.snapshot()["process"]["threads"] == 7 and probe.reads == 1
    assert mon.snapshot()["barge_in"] == {"p50": None, "p95": None, "n": 0}


@pytest.mark.parametrize("step_s", [-30.0, 10 * 3600.0])
def test_a_clock_that_jumps_keeps_the_series_bounded(step_s: float) -> None:
    clock = ManualClock(1_000_000.0)
    mon, _ = monitor(clock, buckets=6)
    mon.record_turn(turn(500.0))
    mon.sample()
    clock.now += step_s
    mon.record_turn(turn(600.0))
    mon.sample()
    buckets = mon.series()
    assert len(buckets) <= 6
    assert sum(b["turns"] for b in buckets) == (2 if step_s < 0 else 1)


def test_errors_waiting_to_be_folded_stay_bounded() -> None:
    clock = ManualClock(1_000_000.0)
    mon, _ = monitor(clock, buckets=4)
    for _ in range(1_000):  # errors over ~3 hours with nobody folding
        mon.count("error:busy")
        clock.now += BUCKET_S
    assert len(mon._pending_errors) <= 4
    assert [b["errors"] for b in mon.series()] == [1, 1, 1, 0]


def typed(v2v: float) -> dict[str, float]:
    return {"llm_first_token_ms": 100.0, "llm_first_sentence_ms": 150.0, "tts_first_audio_ms": v2v}


def greeting(v2v: float) -> dict[str, float]:
    return {"tts_first_audio_ms": v2v}


def test_latency_figures_are_for_spoken_turns_and_the_others_are_told_apart() -> None:
    clock = ManualClock(1000.0)
    m, _ = monitor(clock)
    m.record_turn(turn(700.0))
    m.record_turn(typed(150.0))
    m.record_turn(greeting(40.0))
    snap = m.snapshot()
    assert snap["voice_to_voice"] == {"p50": 700.0, "p95": 700.0, "n": 1}  # not flattered by the others
    assert snap["stages"]["llm_first_token_ms"]["n"] == 1
    by_kind = snap["voice_to_voice_by_kind"]
    assert (by_kind["typed"]["p50"], by_kind["scripted"]["p50"]) == (150.0, 40.0)
    assert [t["kind"] for t in m.recent_turns()] == ["scripted", "typed", "spoken"]
    clock.advance(BUCKET_S)
    (bucket,) = [b for b in m.series() if b["turns"]]
    assert bucket["turns"] == 3 and bucket["v2v_p50"] == 700.0


def test_histograms_count_seconds_cumulatively_by_kind_and_channel() -> None:
    m, _ = monitor(ManualClock(1000.0))
    m.record_turn(turn(700.0), channel="phone")
    m.record_turn(turn(300.0), channel="phone")
    m.record_turn(typed(150.0))
    m.record_barge_in(80.0)
    histograms = m.histograms()
    series = dict(histograms["voice_to_voice"].items())
    phone = series[("spoken", "phone")]
    assert phone.count == 2 and phone.total_s == pytest.approx(1.0)
    cumulative = dict(phone.cumulative())
    assert (cumulative["0.2"], cumulative["0.3"], cumulative["0.65"], cumulative["0.8"], cumulative["+Inf"]) \
        == (0, 1, 1, 2, 2)
    assert series[("typed", "browser")].count == 1
    stages = dict(histograms["turn_stage"].items())
    assert stages[("endpoint_ms",)].count == 2  # the spoken turns' stages only
    assert dict(histograms["barge_in"].items())[()].count == 1
    m.record_turn(turn(100.0), channel="phone")
    assert phone.count == 2  # a copy: what was read does not change under the reader


def test_a_kept_backchannel_and_a_false_interruption_are_counted_for_the_turn_taking_figures() -> None:
    from core.conversation.events import Ignored, ReplyResumed
    from core.session.audio_front import AudioFront
    from core.session.observers import SessionMetrics
    from core.settings import Settings

    m, _ = monitor(ManualClock(1000.0))
    observer = SessionMetrics(m, "session-1", "browser", AudioFront(Settings(), lambda: 0.0))
    observer.observe(Ignored(3, "backchannel"))
    observer.observe(Ignored(4, "repeated"))  # not a backchannel
    observer.observe(ReplyResumed(3, 1200))
    view = m.turn_taking_view()["browser"]
    assert (view["backchannel_kept"], view["false_interruption"]) == ({"hour": 1, "total": 1},) * 2
    assert m.snapshot()["counters"]["false_interruptions"] == 1  # (the older counter goes on too)


def test_a_reply_talked_over_within_a_second_and_short_answers_are_counted() -> None:
    from core.conversation.events import Clear, ClearReason, ReplyStarted, Transcript
    from core.session.audio_front import AudioFront
    from core.session.observers import SessionMetrics
    from core.settings import Settings

    m, _ = monitor(ManualClock(1000.0))
    now = [0.0]
    front = AudioFront(Settings(), lambda: 0.0)
    observer = SessionMetrics(m, "session-1", "phone", front, clock=lambda: now[0])
    observer.observe(ReplyStarted(1, 22050))
    now[0] = 0.6
    observer.observe(Clear(1, ClearReason.BARGE_IN))  # 0.6 s into it: early
    now[0] = 10.0
    observer.observe(ReplyStarted(2, 22050))
    now[0] = 12.5
    observer.observe(Clear(2, ClearReason.BARGE_IN))  # 2.5 s into it: not early
    observer.observe(Transcript(3, "No thanks."))
    observer.observe(Transcript(4, "Tell me about the sea."))
    view = m.turn_taking_view()
    assert set(view) == {"browser", "phone"}
    phone = view["phone"]
    assert (phone["barge_in"]["total"], phone["talked_over_early"]["total"], phone["short_answer"]["total"]) \
        == (2, 1, 1)
    assert view["browser"]["barge_in"] == {"hour": 0, "total": 0}
