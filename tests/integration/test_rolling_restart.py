"""The load tester's spoken sessions through HAProxy while the cluster's two processes go
down in turn, one stopped as a deploy does (SIGTERM), the other killed (SIGKILL): every
session follows its conversation to the other process and resumes it, and no answered
turn is lost (``make bench-restart`` measures the same at 20 sessions)."""

from __future__ import annotations

from monitoring.bench.rolling_restart import missed, run


def test_every_session_resumes_through_a_stop_and_a_kill_under_load() -> None:
    figures = run(("stop", "kill"), sessions=4, turns=6)
    events = [e["event"] for e in figures["timeline"]]
    assert "process 1 stopped" in events and "process 2 killed" in events, figures["timeline"]
    assert figures["moves"] >= 4 and figures["resumed"] == figures["moves"], figures
    assert figures["turns_lost"] == 0 and figures["turns_failed"] == 0, figures
    assert figures["sessions_ok"] == 4, figures
    assert missed(figures) == []
