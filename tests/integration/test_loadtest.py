"""The load tester against a real server (simulated providers, no models): every turn
answered and timed, the JSON and the plot written, and a barge-in measured."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.providers.base import Providers
from core.providers.simulated import SimulatedLLM, SimulatedSTT, SimulatedTimings, SimulatedTTS
from core.settings import Settings
from monitoring.loadtest.config import LoadConfig
from monitoring.loadtest.report import Report, format_report
from monitoring.loadtest.run import main, run, run_load
from monitoring.servers.inprocess_server import InProcessServer
from tests.conftest import FIXTURES

TOKEN = "loadtest-admin-token"
QUICK = SimulatedTimings(stt_ms=50, llm_first_token_ms=50, tts_first_audio_ms=50)
QUESTIONS = tuple(sorted(FIXTURES.glob("question_*.wav")))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    settings = Settings().replace(
        greeting_after_ms=0, db_path=str(tmp_path_factory.mktemp("loadtest") / "turns.db"),
        max_sessions_per_address=0, admin_token=TOKEN,
        # The simulated recognizer may hear two different clips as the same words; the
        # repeat filter would then (rightly) not answer, which is not what is tested here.
        dedup_window_ms=0)
    providers = Providers(SimulatedSTT(QUICK), SimulatedLLM(QUICK), SimulatedTTS(QUICK))
    with InProcessServer(settings, providers) as running:
        yield running


def config(server: InProcessServer, tmp_path: Path, **changes: object) -> LoadConfig:
    settings = {"url": server.ws_url, "sessions": 4, "turns": 2, "ramp_up_s": 1.0, "think_ms": 300,
                "turn_timeout_s": 10.0, "audio": QUESTIONS, "admin_token": TOKEN,
                "out": tmp_path / "results.json", "plot": tmp_path / "results.png", **changes}
    return LoadConfig(**settings)  # type: ignore[arg-type]


def test_four_sessions_of_two_turns_are_all_answered_and_reported(server, tmp_path) -> None:
    report = run_load(config(server, tmp_path))

    assert report.completed
    assert (report.sessions.ok, report.sessions.failed, report.sessions.refused) == (4, 0, 0), report.sessions
    assert (report.turns.ok, report.turns.failed, report.turns.not_run) == (8, 0, 0), report.turns
    v2v = [t.v2v_ms for t in report.per_turn]
    assert all(v is not None and 0 < v < 5000 for v in v2v), v2v
    assert report.v2v_ms.n == 8 and 0 < report.v2v_ms.p50 < report.v2v_ms.max < 5000  # type: ignore[operator]
    assert {(t.session, t.turn) for t in report.per_turn} == {(s, n) for s in range(4) for n in (1, 2)}
    for session in range(4):  # a different question each turn, so none is a repeat
        clips = [t.clip for t in report.per_turn if t.session == session]
        assert len(set(clips)) == 2
    assert report.pacing_lag_ms.frames > 8 * 50  # at least a second of audio per turn
    assert report.server["collected"] and report.server["rss_bytes"]["max"] > 0

    data = json.loads((tmp_path / "results.json").read_text())
    assert data["turns"]["ok"] == 8 and len(data["per_turn"]) == 8
    assert data["parameters"]["sessions"] == 4
    png = (tmp_path / "results.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_talking_over_the_reply_measures_the_barge_in(server, tmp_path) -> None:
    report = run_load(config(server, tmp_path, sessions=2, turns=2, barge_in_every=1, plot=None))

    assert (report.turns.ok, report.turns.failed) == (4, 0), report.turns
    barge = report.barge_in_ms
    assert barge.attempted == 2 and barge.measured >= 1, barge
    assert 0 < barge.p50 < 2000, barge  # type: ignore[operator]
    interrupted = [t for t in report.per_turn if t.barge_in]
    assert all(t.turn == 2 for t in interrupted)


def test_a_full_server_is_counted_as_a_refusal(tmp_path) -> None:
    settings = Settings().replace(greeting_after_ms=0, db_path="", max_sessions=1, max_sessions_per_address=0)
    providers = Providers(SimulatedSTT(QUICK), SimulatedLLM(QUICK), SimulatedTTS(QUICK))
    with InProcessServer(settings, providers) as full:
        progress = io.StringIO()
        report = run_load(config(full, tmp_path, sessions=2, turns=1, ramp_up_s=0.0, admin_token="wrong",
                                 out=None, plot=None), progress=progress)

    assert (report.sessions.ok, report.sessions.refused, report.sessions.failed) == (1, 1, 0), report.sessions
    assert report.sessions.refusal_reasons == {"server_full": 1}
    assert (report.turns.ok, report.turns.not_run) == (1, 1)
    # This server has no admin token: the metrics are closed (403); said once, and the run goes on.
    assert not report.server["collected"] and "admin token was refused (HTTP 403)" in report.server["note"]
    assert progress.getvalue().count("admin token refused") == 1


class StopAfterFirstTurn(io.StringIO):
    """Reads the progress line and stops the run once a turn is done (as Ctrl-C would)."""

    def __init__(self, stop: asyncio.Event) -> None:
        super().__init__()
        self.stop = stop

    def write(self, text: str) -> int:
        if " 0 ok" not in text and "turns" in text:
            self.stop.set()
        return super().write(text)


def test_a_run_stopped_midway_ends_every_session_and_reports_what_it_has(server, tmp_path) -> None:
    async def stopped_run() -> tuple[Report, set[asyncio.Task[object]]]:
        stop = asyncio.Event()
        report = await run(config(server, tmp_path, sessions=3, turns=3, think_ms=2000, out=None, plot=None),
                           progress=StopAfterFirstTurn(stop), stop=stop)
        return report, asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]

    report, left = asyncio.run(stopped_run())

    assert not left  # every session, reader and poll ended with the run
    assert not report.completed and report.had_failures
    assert report.turns.ok >= 1 and report.turns.failed == 0  # being stopped is not a failure
    assert report.turns.ok + report.turns.stopped + report.turns.not_run == 9
    assert report.sessions.stopped == 3 and report.sessions.failed == 0
    assert "(STOPPED EARLY)" in format_report(report)


def test_thresholds_set_the_exit_code_and_the_junit_file(server, tmp_path, capsys) -> None:
    common = ["--url", server.ws_url, "--sessions", "1", "--turns", "1", "--ramp-up", "0", "--quiet",
              "--audio", str(QUESTIONS[0]), "--admin-token", TOKEN]
    met = main([*common, "--max-p95-ms", "60000", "--max-failed", "0", "--junit", str(tmp_path / "met.xml"),
                "--csv", str(tmp_path / "turns.csv")])
    missed = main([*common, "--max-p95-ms", "1", "--junit", str(tmp_path / "missed.xml")])

    assert (met, missed) == (0, 1)
    printed = capsys.readouterr()
    assert "PASS  voice-to-voice p95" in printed.out and "FAIL  voice-to-voice p95" in printed.out
    assert "loadtest: failed: voice-to-voice p95" in printed.err
    assert "failures=\"0\"" in (tmp_path / "met.xml").read_text()
    assert "failures=\"1\"" in (tmp_path / "missed.xml").read_text()
    assert len((tmp_path / "turns.csv").read_text().splitlines()) == 2  # the header and the turn


def test_a_duration_keeps_the_sessions_asking_until_it_is_over(server, tmp_path) -> None:
    report = run_load(config(server, tmp_path, sessions=2, turns=1, ramp_up_s=0.0, think_ms=200,
                             duration_s=10.0, out=None, plot=None))

    assert report.completed and report.sessions.ok == 2, report.sessions
    per_session = [sum(t.session == s for t in report.per_turn) for s in (0, 1)]
    # Past --turns (1): asked again while there was time (a turn here takes 5-8 s).
    assert min(per_session) >= 1 and sum(per_session) >= 3, per_session
    assert (report.turns.planned, report.turns.not_run, report.turns.failed) == (report.turns.ok, 0, 0)
    last_question = max(t.start_s for t in report.per_turn if t.start_s is not None)
    assert last_question < 10.0  # none asked after the duration
