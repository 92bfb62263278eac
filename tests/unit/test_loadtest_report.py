"""The load tester's figures from synthetic records: percentiles, counts, reasons, the
tester's own lag, and the JSON and text a QA person reads."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitoring.loadtest.config import LoadConfig
from monitoring.loadtest.inbox import IGNORED, MOVED, STOPPED, Move, SessionResult, TurnResult
from monitoring.loadtest.report import Report, build_report, format_report
from monitoring.loadtest.stats import Distribution, LagHistogram, LiveStats, percentile

NO_SERVER: dict[str, Any] = {"collected": False, "note": "not collected (no --admin-token)",
                             "cpu_percent": {"mean": None, "max": None},
                             "rss_bytes": {"before": None, "after": None, "max": None},
                             "failed_polls": 0, "samples": []}


def turn(session: int, n: int, v2v: float | None = 800.0, ok: bool = True, reason: str | None = None,
         barge_in: bool = False, barge_in_ms: float | None = None) -> TurnResult:
    return TurnResult(session=session, turn=n, clip=f"question_{n}", ok=ok, reason=reason,
                      start_s=float(n * 5), speech_end_s=float(n * 5 + 2), v2v_ms=v2v,
                      server_v2v_ms=None if v2v is None else v2v - 30, barge_in=barge_in,
                      barge_in_ms=barge_in_ms, server_turn=n)


def report_of(records: list[TurnResult], sessions: list[SessionResult], lag: LagHistogram | None = None,
              server: dict[str, Any] | None = None, **config: Any) -> Report:
    settings = {"sessions": len(sessions), "turns": 2, "audio": (Path("q.wav"),), **config}
    return build_report(LoadConfig(**settings), sessions, records, lag=lag or LagHistogram(),
                        server=server or NO_SERVER, errors=Counter({"rate_limited": 2}),
                        active=[(0.0, 0), (1.0, len(sessions))], started_at="2026-01-01T00:00:00+00:00",
                        duration_s=12.34, completed=True, tester_cpu_s=1.234)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 100) == 3.0


def test_distribution_of_values_and_of_none() -> None:
    d = Distribution.of([100.0, 200.0, 300.0, 400.0])
    assert (d.n, d.mean, d.min, d.p50, d.p95, d.p99, d.max) == (4, 250.0, 100.0, 200.0, 400.0, 400.0, 400.0)
    empty = Distribution.of([])
    assert empty.n == 0 and empty.mean is None and empty.p95 is None


def test_lag_histogram_keeps_fixed_memory_and_finds_its_percentiles() -> None:
    lag = LagHistogram()
    for _ in range(980):
        lag.add(0.0004)  # 0.4 ms
    for _ in range(20):
        lag.add(0.030)  # 30 ms: more than a frame late
    lag.add(-0.001)  # early (a sleep that woke a little soon) counts as on time
    lag.add(7.5)  # past the last bucket
    assert lag.count == 1002 and lag.late_frames == 21
    assert lag.percentile_ms(50) == pytest.approx(0.5)  # the 0.4 ms bucket's upper edge
    assert 30.0 <= lag.percentile_ms(99) <= 30.1  # type: ignore[operator]
    assert lag.max_ms == pytest.approx(7500.0)
    assert lag.percentile_ms(100) == pytest.approx(7500.0)
    sizes = (len(lag._fine), len(lag._coarse))
    for _ in range(10_000):
        lag.add(0.002)
    assert (len(lag._fine), len(lag._coarse)) == sizes
    assert LagHistogram().percentile_ms(95) is None


def test_counts_reasons_and_latencies() -> None:
    turns = [turn(0, 1, 700.0), turn(0, 2, 900.0), turn(1, 1, 1100.0),
             turn(1, 2, None, ok=False, reason="timeout: no reply"),
             turn(2, 1, 5000.0, ok=False, reason="timeout: reply not finished")]
    sessions = [SessionResult(0, "ok"), SessionResult(1, "failed", "turns failed"),
                SessionResult(2, "failed", "closed by the server (code 1008, after flooding)"),
                SessionResult(3, "refused", "address_limit")]
    report = report_of(turns, sessions)
    assert (report.sessions.ok, report.sessions.failed, report.sessions.refused) == (1, 2, 1)
    assert report.sessions.refusal_reasons == {"address_limit": 1}
    assert report.sessions.failure_reasons == {"turns failed": 1,
                                               "closed by the server (code 1008, after flooding)": 1}
    assert (report.turns.planned, report.turns.ok, report.turns.failed, report.turns.not_run) == (8, 3, 2, 3)
    assert report.turns.failure_reasons == {"timeout: no reply": 1, "timeout: reply not finished": 1}
    assert report.v2v_ms.n == 3 and report.v2v_ms.max == 1100.0  # failed turns are not in it
    assert report.v2v_ms.mean == 900.0 and report.v2v_ms.p50 == 900.0
    assert report.server_v2v_ms.p50 == 870.0
    assert report.errors_by_code == {"rate_limited": 2}
    assert report.had_failures
    assert any("VOICECHAT_MAX_SESSIONS_PER_ADDRESS=0" in note for note in report.notes)


def test_barge_in_reactions_count_the_measured_and_the_missed() -> None:
    turns = [turn(0, 1), turn(0, 2, barge_in=True, barge_in_ms=120.0),
             turn(1, 1), turn(1, 2, barge_in=True, barge_in_ms=None),
             turn(2, 1), turn(2, 2, barge_in=True, barge_in_ms=80.0)]
    report = report_of(turns, [SessionResult(i, "ok") for i in range(3)], barge_in_every=1)
    b = report.barge_in_ms
    assert (b.attempted, b.measured, b.p50, b.p95, b.max) == (3, 2, 80.0, 120.0, 120.0)
    assert "barge-in ms" in format_report(report)
    assert not report.had_failures and not report.notes


def test_a_barge_in_that_could_never_happen_is_explained() -> None:
    report = report_of([turn(0, 1), turn(0, 2)], [SessionResult(0, "ok")], barge_in_every=2)
    assert report.barge_in_ms.attempted == 0
    assert any("--barge-in-every must be below --turns" in note for note in report.notes)


def test_repeated_words_are_a_named_failure_with_a_way_out() -> None:
    turns = [turn(0, 1), turn(0, 2, ok=False, v2v=None, reason=IGNORED)]
    report = report_of(turns, [SessionResult(0, "failed", "turns failed")])
    assert report.turns.failure_reasons == {IGNORED: 1}
    assert any("VOICECHAT_DEDUP_WINDOW_MS=0" in note for note in report.notes)


def test_the_tester_falling_behind_is_said() -> None:
    lag = LagHistogram()
    for _ in range(100):
        lag.add(0.040)
    report = report_of([turn(0, 1), turn(0, 2)], [SessionResult(0, "ok")], lag=lag)
    assert not report.pacing_lag_ms.kept_real_time and report.pacing_lag_ms.late_frames == 100
    assert "FELL BEHIND" in format_report(report)
    assert any("fell behind" in note for note in report.notes)
    on_time = LagHistogram()
    on_time.add(0.001)
    assert report_of([turn(0, 1)], [SessionResult(0, "ok")], lag=on_time).pacing_lag_ms.kept_real_time


def test_json_has_the_parameters_summaries_and_every_turn() -> None:
    turns = [turn(0, 1), turn(0, 2, ok=False, v2v=None, reason="error provider_failed")]
    server = {**NO_SERVER, "collected": True, "note": None, "cpu_percent": {"mean": 40.0, "max": 90.0},
              "rss_bytes": {"before": 100 << 20, "after": 120 << 20, "max": 130 << 20},
              "samples": [{"t_s": 2.0, "cpu_percent": 40.0, "rss_bytes": 110 << 20}]}
    text = json.dumps(report_of(turns, [SessionResult(0, "failed", "turns failed")], server=server,
                                admin_token="secret-token-xyz").to_json())
    data = json.loads(text)
    assert set(data) >= {"parameters", "started_at", "duration_s", "completed", "sessions", "turns",
                         "v2v_ms", "server_v2v_ms", "barge_in_ms", "pacing_lag_ms", "server",
                         "errors_by_code", "active_sessions", "per_turn", "per_session", "notes"}
    assert data["parameters"]["sessions"] == 1 and data["parameters"]["admin_token_given"] is True
    assert "secret-token-xyz" not in text  # the token itself is never written
    assert set(data["v2v_ms"]) == {"n", "mean", "min", "p50", "p95", "p99", "max"}
    assert data["per_turn"][1] == {"session": 0, "turn": 2, "clip": "question_2", "ok": False,
                                   "reason": "error provider_failed", "start_s": 10.0, "speech_end_s": 12.0,
                                   "v2v_ms": None, "server_v2v_ms": None, "barge_in": False,
                                   "barge_in_ms": None, "server_turn": 2}
    assert data["server"]["rss_bytes"]["max"] == 130 << 20
    assert data["active_sessions"] == [[0.0, 0], [1.0, 1]]
    assert data["pacing_lag_ms"]["tester_cpu_percent"] == 10.0  # 1.234 s of CPU in 12.34 s


def test_text_report_is_aligned_and_names_what_went_wrong() -> None:
    turns = [turn(0, 1, 812.0), turn(0, 2, ok=False, v2v=None, reason="timeout: no reply")]
    text = format_report(report_of(turns, [SessionResult(0, "failed", "turns failed")]))
    lines = text.splitlines()
    assert lines[0].startswith("Load test of ws://127.0.0.1:8050/ws/voice: 1 sessions x 2 turns")
    rows = {line[2:22].strip(): line[22:] for line in lines[1:] if line.startswith("  ") and line[2] != " "}
    assert rows["turns"].startswith("1 ok, 1 failed")
    assert "p95 812" in rows["voice-to-voice ms"]
    assert rows["failed turns"] == "timeout: no reply 1"
    assert rows["server figures"] == "not collected (no --admin-token)"
    assert rows["tester lag ms"] == "no frames sent"


def test_live_status_line_reads_plainly() -> None:
    live = LiveStats(10)
    live.waiting, live.active = 4, 6
    live.turn_done(True, 700.0)
    live.turn_done(False, None)
    line = live.status_line(3.04)
    assert "sessions 6 active, 4 ramping, 0 ended" in line
    assert "turns 1 ok, 1 failed" in line and "v2v p95 700 ms" in line
    assert "\r" not in line and "\x1b" not in line


def test_what_the_stop_cut_short_is_neither_ok_nor_failed() -> None:
    turns = [turn(0, 1), turn(0, 2, ok=False, v2v=None, reason=STOPPED)]
    sessions = [SessionResult(0, "stopped"), SessionResult(1, "not started")]
    report = report_of(turns, sessions)
    assert (report.turns.ok, report.turns.failed, report.turns.stopped, report.turns.not_run) == (1, 0, 1, 2)
    assert (report.sessions.stopped, report.sessions.not_started, report.sessions.failed) == (1, 1, 0)
    assert report.turns.failure_reasons == {}
    text = format_report(report)
    assert "1 ok, 0 failed, 1 stopped, 2 not run" in text and "1 stopped, 1 not started" in text


def test_moves_count_resumes_owed_pauses_and_lost_turns() -> None:
    moved = SessionResult(0, "ok", moves=[Move(2, True, 25.0, 0), Move(3, True, 40.0, 1)])
    fresh = SessionResult(1, "ok", moves=[Move(0, False, 30.0, 0, "resume_refused")])  # nothing to take back
    refused = SessionResult(2, "ok", moves=[Move(1, False, 20.0, 1, "resume_refused")])
    turns = [turn(0, 1), turn(0, 2), turn(0, 2, ok=False, reason=MOVED), turn(1, 1), turn(1, 2),
             turn(2, 1), turn(2, 2)]
    report = report_of(turns, [moved, fresh, refused])
    m = report.moves
    assert (m.moves, m.owed, m.resumed, m.turns_lost) == (4, 3, 2, 2)
    assert m.pause_max_ms == 40.0 and m.not_resumed_reasons == {"resume_refused": 1}
    assert report.turns.failed == 0 and report.turns.asked_again == 1 and report.turns.not_run == 0
    assert report.had_failures  # a resume owed and refused, and turns lost
    assert "1 questions asked again" in format_report(report)
