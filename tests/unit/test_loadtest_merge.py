"""Several load testers' results as one: every turn and session recounted, percentiles
of all the turns together, pass marks applied to the whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitoring.loadtest.inbox import SessionResult
from monitoring.loadtest.merge import MergeError, main, merge, read
from tests.unit.test_loadtest_report import report_of, turn


def saved(tmp_path: Path, name: str, v2v: list[float], failed: bool = False) -> Path:
    turns = [turn(0, n + 1, v) for n, v in enumerate(v2v)]
    sessions = [SessionResult(0, "failed" if failed else "ok", "turns failed" if failed else None)]
    if failed:
        turns.append(turn(0, len(v2v) + 1, None, ok=False, reason="no reply"))
    asked = {"turns": len(turns)}
    path = tmp_path / name
    path.write_text(json.dumps(report_of(turns, sessions, **asked).to_json()))
    return path


def test_two_testers_make_one_report_of_all_their_turns(tmp_path) -> None:
    first = saved(tmp_path, "a.json", [100.0, 200.0, 300.0])
    second = saved(tmp_path, "b.json", [900.0, 1000.0], failed=True)
    report = merge([read(first), read(second)])

    assert (report.sessions.planned, report.sessions.ok, report.sessions.failed) == (2, 1, 1)
    assert (report.turns.ok, report.turns.failed, report.turns.not_run) == (5, 1, 0)
    assert report.v2v_ms.n == 5 and report.v2v_ms.p50 == 300.0 and report.v2v_ms.max == 1000.0
    assert sorted({t.session for t in report.per_turn}) == [0, 1]  # numbered on, not mixed up
    assert report.parameters["merged_from"] == 2 and len(report.server["merged"]) == 2
    assert report.errors_by_code == {"rate_limited": 4}


def test_the_command_applies_the_pass_marks_to_the_whole(tmp_path, capsys) -> None:
    first = saved(tmp_path, "a.json", [100.0, 200.0])
    second = saved(tmp_path, "b.json", [900.0, 1000.0])
    assert main([str(first), str(second), "--max-p95-ms", "2000", "--out", str(tmp_path / "all.json")]) == 0
    assert json.loads((tmp_path / "all.json").read_text())["v2v_ms"]["n"] == 4
    assert main([str(first), str(second), "--max-p95-ms", "500"]) == 1
    assert "FAIL  voice-to-voice p95: 1000 ms" in capsys.readouterr().out


def test_files_that_are_not_results_or_of_other_servers_are_refused(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    assert main([str(bad)]) == 2 and "not a load tester's --out file" in capsys.readouterr().err
    other = json.loads(saved(tmp_path, "a.json", [100.0]).read_text())
    other["parameters"]["url"] = "ws://10.0.0.9:8050/ws/voice"
    with pytest.raises(MergeError, match="different servers"):
        merge([read(saved(tmp_path, "b.json", [100.0])), other])
