"""The load tester's checks (--max-p95-ms, --max-failed, --fail-on-errors): each can
fail the run, and the CSV and JUnit files say the same as the console."""

from __future__ import annotations

import csv
from xml.etree import ElementTree

from monitoring.loadtest.config import LoadConfig
from monitoring.loadtest.inbox import SessionResult
from monitoring.loadtest.outputs import TURN_COLUMNS, write_outputs
from monitoring.loadtest.verdict import Thresholds, checks, failed_count, format_checks
from tests.unit.test_loadtest_report import report_of, turn


def two_sessions(v2v: list[float | None], failed_turn: bool = False):  # type: ignore[no-untyped-def]
    turns = [turn(0, n, v) for n, v in enumerate(v2v)]
    if failed_turn:
        turns.append(turn(1, 0, None, ok=False, reason="no reply"))
    sessions = [SessionResult(0, "ok"), SessionResult(1, "failed" if failed_turn else "ok", None)]
    asked = {"turns": len(v2v)}  # each session's questions (session 1 may ask fewer: not run)
    return report_of(turns, sessions, **asked)


def test_no_thresholds_no_checks() -> None:
    assert checks(two_sessions([500.0, 900.0]), Thresholds()) == []


def test_the_p95_threshold_passes_at_it_and_fails_over_it() -> None:
    report = two_sessions([500.0, 900.0])  # p95 900 ms
    (at,) = checks(report, Thresholds(max_p95_ms=900))
    (over,) = checks(report, Thresholds(max_p95_ms=899))
    assert at.passed and "900 ms" in at.detail
    assert not over.passed and "at most 899 ms" in over.detail


def test_no_answered_turn_fails_the_p95_threshold() -> None:
    (check,) = checks(two_sessions([None]), Thresholds(max_p95_ms=10_000))
    assert not check.passed and "no turn was answered" in check.detail


def test_failures_count_turns_and_sessions() -> None:
    report = two_sessions([500.0], failed_turn=True)
    assert failed_count(report) == 2  # the turn and its session (each asks one question)
    assert checks(report, Thresholds(max_failed=2))[0].passed
    (over,) = checks(report, Thresholds(max_failed=1))
    assert not over.passed and "2 failed or refused (at most 1)" in over.detail
    (errors,) = checks(report, Thresholds(fail_on_errors=True))
    assert not errors.passed and "1 turns failed" in errors.detail
    assert "FAIL  failures" in format_checks([over])


def test_csv_has_a_row_per_turn_and_junit_a_case_per_check(tmp_path) -> None:
    report = two_sessions([500.0, 900.0], failed_turn=True)
    found = checks(report, Thresholds(max_p95_ms=1000, max_failed=0))
    config = LoadConfig(audio=(), csv=tmp_path / "turns.csv", junit=tmp_path / "junit.xml")
    written = write_outputs(report, config, found)
    assert [what for what, _ in written] == ["CSV", "JUnit"]

    with (tmp_path / "turns.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == TURN_COLUMNS and len(rows) == 3
    assert rows[1]["v2v_ms"] == "900.0" and rows[2]["ok"] == "False" and rows[2]["v2v_ms"] == ""

    suite = ElementTree.parse(tmp_path / "junit.xml").getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["voice-to-voice p95"].find("failure") is None
    # a failed turn, its session, and session 1's second question, never asked
    assert "3 failed or refused" in cases["failures"].find("failure").get("message")
