"""What a load test found: counts, latency distributions, the tester's own pacing and the
server's CPU and memory, as aligned plain text and as JSON (with every turn)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitoring.loadtest.config import LoadConfig
from monitoring.loadtest.inbox import IGNORED, MOVED, STOPPED, SessionResult, TurnResult
from monitoring.loadtest.stats import ONE_FRAME_MS, Distribution, LagHistogram, percentile

LABEL_WIDTH = 20
HINTS = {
    "address_limit": "the server limits sessions per client address: start it with "
                     "VOICECHAT_MAX_SESSIONS_PER_ADDRESS=0 for a load test",
    "server_full": "the server holds VOICECHAT_MAX_SESSIONS at most: raise it (and VOICECHAT_THREADS, "
                   "one thread per open socket) to test more sessions",
}


@dataclass(frozen=True)
class SessionCounts:
    planned: int
    ok: int
    failed: int
    refused: int
    stopped: int  # still running when the run was stopped
    not_started: int
    failure_reasons: dict[str, int]
    refusal_reasons: dict[str, int]


@dataclass(frozen=True)
class TurnCounts:
    planned: int
    ok: int
    failed: int
    stopped: int  # in flight when the run was stopped
    not_run: int
    asked_again: int  # cut by a server going away, and asked again after the resume
    failure_reasons: dict[str, int]


@dataclass(frozen=True)
class BargeIns:
    attempted: int  # questions that talked over a reply
    measured: int  # of them, the server's clear (barge_in) arrived
    p50: float | None
    p95: float | None
    max: float | None


@dataclass(frozen=True)
class Moves:
    """Sessions whose server went away (restarted, killed) under them and came back."""
    moves: int
    owed: int  # of them, with a conversation to take back (a turn answered before)
    resumed: int  # of those, taken back
    pause_p50_ms: float | None  # the close -> the resumed ``ready``
    pause_p95_ms: float | None
    pause_max_ms: float | None
    turns_lost: int  # answered before a move, missing from the resumed history
    not_resumed_reasons: dict[str, int]  # of the moves owed a resume

    @classmethod
    def of(cls, sessions: Sequence[SessionResult]) -> Moves:
        moves = [m for s in sessions for m in s.moves]
        owed = [m for m in moves if m.owed]
        pauses = [m.pause_ms for m in owed if m.resumed and m.pause_ms is not None]
        return cls(len(moves), len(owed), sum(m.resumed for m in owed), percentile(pauses, 50),
                   percentile(pauses, 95), max(pauses, default=None), sum(m.turns_lost for m in moves),
                   _counted(m.reason for m in owed if not m.resumed))


@dataclass(frozen=True)
class PacingLag:
    frames: int
    p50: float | None
    p95: float | None
    max: float | None
    late_frames: int  # sent a whole frame (20 ms) or more after their time
    kept_real_time: bool  # p95 under half a frame: the latencies are the server's, not the tester's
    tester_cpu_percent: float | None  # the tester process's own CPU (100 = one core)


@dataclass
class Report:
    parameters: dict[str, Any]
    started_at: str
    duration_s: float
    completed: bool  # False: stopped early (Ctrl-C, or the run's own time bound)
    sessions: SessionCounts
    turns: TurnCounts
    v2v_ms: Distribution
    server_v2v_ms: Distribution  # the server's own figure for the same turns (reply_done timings)
    barge_in_ms: BargeIns
    moves: Moves
    pacing_lag_ms: PacingLag
    server: dict[str, Any]
    errors_by_code: dict[str, int]
    active_sessions: list[tuple[float, int]]
    per_turn: list[TurnResult] = field(default_factory=list)
    per_session: list[SessionResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def had_failures(self) -> bool:
        return not self.completed or bool(self.turns.failed or self.sessions.failed
                                          or self.sessions.refused or self.turns.not_run
                                          or self.moves.turns_lost
                                          or self.moves.resumed < self.moves.owed)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["active_sessions"] = [list(point) for point in self.active_sessions]
        return data


def parameters_of(config: LoadConfig) -> dict[str, Any]:
    return {
        "url": config.url, "sessions": config.sessions, "turns": config.turns,
        "ramp_up_s": config.ramp_up_s, "audio": [str(p) for p in config.audio],
        "barge_in_every": config.barge_in_every, "turn_timeout_s": config.turn_timeout_s,
        "think_ms": config.think_ms, "seed": config.seed, "admin_token_given": bool(config.admin_token),
        "duration_s": config.duration_s, "arrival_rate": config.arrival_rate,
    }


def _counted(reasons: Iterable[str | None]) -> dict[str, int]:
    return dict(Counter(r or "unknown" for r in reasons).most_common())


def pacing_of(lag: LagHistogram, cpu_s: float, duration_s: float) -> PacingLag:
    p95 = lag.percentile_ms(95)
    kept = p95 is not None and p95 < ONE_FRAME_MS / 2  # 95 % of frames within half a frame
    cpu = round(100.0 * cpu_s / duration_s, 1) if duration_s > 0 else None
    return PacingLag(lag.count, lag.percentile_ms(50), p95, round(lag.max_ms, 1) if lag.count else None,
                     lag.late_frames, kept, cpu)


def build_report(config: LoadConfig, sessions: Sequence[SessionResult], turns: Sequence[TurnResult],
                 *, lag: LagHistogram, server: dict[str, Any], errors: Counter[str],
                 active: Sequence[tuple[float, int]], started_at: str, duration_s: float,
                 completed: bool, tester_cpu_s: float = 0.0) -> Report:
    by_outcome = Counter(s.outcome for s in sessions)
    session_counts = SessionCounts(
        planned=config.sessions, ok=by_outcome["ok"], failed=by_outcome["failed"],
        refused=by_outcome["refused"], stopped=by_outcome["stopped"],
        not_started=config.sessions - len(sessions) + by_outcome["not started"],
        failure_reasons=_counted(s.reason for s in sessions if s.outcome == "failed"),
        refusal_reasons=_counted(s.reason for s in sessions if s.outcome == "refused"))
    ok_turns = [t for t in turns if t.ok]
    failed_turns = [t for t in turns if not t.ok and t.reason not in (STOPPED, MOVED)]
    asked_again = sum(t.reason == MOVED for t in turns)
    stopped = len(turns) - len(ok_turns) - len(failed_turns) - asked_again
    planned = config.planned_turns if config.planned_turns is not None else len(turns) - asked_again
    turn_counts = TurnCounts(
        planned=planned, ok=len(ok_turns), failed=len(failed_turns), stopped=stopped,
        not_run=planned - len(turns) + asked_again, asked_again=asked_again,
        failure_reasons=_counted(t.reason for t in failed_turns))
    barging = [t for t in turns if t.barge_in]
    reactions = [t.barge_in_ms for t in barging if t.barge_in_ms is not None]
    barge = BargeIns(len(barging), len(reactions), percentile(reactions, 50), percentile(reactions, 95),
                     max(reactions, default=None))
    notes = [HINTS[code] for code in HINTS if code in session_counts.refusal_reasons]
    pacing = pacing_of(lag, tester_cpu_s, duration_s)
    if lag.count and not pacing.kept_real_time:
        notes.append("the tester fell behind real time (see tester lag): its latencies include its "
                     "own delay; run fewer sessions per process")
    if any(t.reason == IGNORED for t in failed_turns):
        notes.append("the server heard the same words twice in a row and did not answer again (its "
                     "repeat filter): give more distinct --audio files, or with simulated providers "
                     "start the server with VOICECHAT_DEDUP_WINDOW_MS=0")
    if config.barge_in_every and not barging:
        notes.append("no barge-in: the last turn of a session is never talked over, so "
                     "--barge-in-every must be below --turns")
    ordered = sorted(turns, key=lambda t: (t.session, t.turn))
    return Report(
        parameters=parameters_of(config), started_at=started_at, duration_s=round(duration_s, 1),
        completed=completed, sessions=session_counts, turns=turn_counts,
        v2v_ms=Distribution.of([t.v2v_ms for t in ok_turns if t.v2v_ms is not None]),
        server_v2v_ms=Distribution.of([t.server_v2v_ms for t in ok_turns if t.server_v2v_ms is not None]),
        barge_in_ms=barge, moves=Moves.of(sessions), pacing_lag_ms=pacing, server=server,
        errors_by_code=dict(errors.most_common()), active_sessions=list(active), per_turn=ordered,
        per_session=sorted(sessions, key=lambda s: s.session), notes=notes)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in counts.items())


def format_report(report: Report) -> str:
    p = report.parameters
    if p.get("arrival_rate"):
        shape = (f"{p['arrival_rate']:g} sessions a second over {p['ramp_up_s']:g} s ({p['sessions']}) "
                 f"x {p['turns']} turns")
    elif p.get("duration_s"):
        shape = f"{p['sessions']} sessions asking for {p['duration_s']:g} s, ramp-up {p['ramp_up_s']:g} s"
    else:
        shape = f"{p['sessions']} sessions x {p['turns']} turns, ramp-up {p['ramp_up_s']:g} s"
    lines = [f"Load test of {p['url']}: {shape}, think {p['think_ms']} ms, barge-in every "
             f"{p['barge_in_every'] or '-'}, turn timeout {p['turn_timeout_s']:g} s, seed {p['seed']}"]

    def row(label: str, text: str) -> None:
        lines.append(f"  {label:<{LABEL_WIDTH}}{text}")

    row("started", f"{report.started_at}, ran {report.duration_s:.1f} s"
        + ("" if report.completed else "  (STOPPED EARLY)"))
    s, t = report.sessions, report.turns
    row("sessions", f"{s.ok} ok, {s.failed} failed, {s.refused} refused"
        + (f", {s.stopped} stopped" if s.stopped else "")
        + (f", {s.not_started} not started" if s.not_started else "") + f"  (of {s.planned})")
    row("turns", f"{t.ok} ok, {t.failed} failed" + (f", {t.stopped} stopped" if t.stopped else "")
        + (f", {t.not_run} not run" if t.not_run else "") + f"  (of {t.planned})")
    v = report.v2v_ms
    row("voice-to-voice ms", f"mean {_ms(v.mean)}  min {_ms(v.min)}  p50 {_ms(v.p50)}  p95 {_ms(v.p95)}  "
        f"p99 {_ms(v.p99)}  max {_ms(v.max)}  (n {v.n})")
    sv = report.server_v2v_ms
    if sv.n:
        row("  server's own", f"mean {_ms(sv.mean)}  p50 {_ms(sv.p50)}  p95 {_ms(sv.p95)}  max {_ms(sv.max)}"
            f"  (n {sv.n}; from the server's end of speech)")
    b = report.barge_in_ms
    if b.attempted:
        row("barge-in ms", f"p50 {_ms(b.p50)}  p95 {_ms(b.p95)}  max {_ms(b.max)}  "
            f"({b.measured} of {b.attempted} measured)")
    m = report.moves
    if m.moves:
        row("server moves", f"{m.moves}, {m.resumed} of {m.owed} with a conversation resumed, "
            f"pause p50 {_ms(m.pause_p50_ms)}  p95 {_ms(m.pause_p95_ms)}  max {_ms(m.pause_max_ms)} ms, "
            f"{m.turns_lost} turns lost, "
            f"{t.asked_again} questions asked again"
            + (f"  (not resumed: {_reasons(m.not_resumed_reasons)})" if m.not_resumed_reasons else ""))
    lag = report.pacing_lag_ms
    verdict = "kept real time" if lag.kept_real_time else "FELL BEHIND real time"
    row("tester lag ms", "no frames sent" if not lag.frames else
        f"p50 {_ms(lag.p50)}  p95 {_ms(lag.p95)}  max {_ms(lag.max)}  "
        f"({lag.frames:,} frames, {lag.late_frames:,} a frame late): {verdict}")
    if lag.tester_cpu_percent is not None:
        row("tester CPU %", f"{_ms(lag.tester_cpu_percent)}  (100 = one core)")
    server = report.server
    if server["collected"]:
        cpu, rss = server["cpu_percent"], server["rss_bytes"]
        missed = f", {server['failed_polls']} polls unanswered" if server.get("failed_polls") else ""
        row("server CPU %", f"mean {_ms(cpu['mean'])}  max {_ms(cpu['max'])}  (100 = one core; "
            f"{len(server['samples'])} samples{missed})")
        row("server RSS MB", "  ".join(f"{k} {_mb(rss[k])}" for k in ("before", "max", "after")))
    else:
        row("server figures", server["note"] or "not collected")
    if t.failure_reasons:
        row("failed turns", _reasons(t.failure_reasons))
    if s.failure_reasons:
        row("failed sessions", _reasons(s.failure_reasons))
    if s.refusal_reasons:
        row("refusals", _reasons(s.refusal_reasons))
    if report.errors_by_code:
        row("error events", _reasons(report.errors_by_code))
    lines += [f"  note: {note}" for note in report.notes]
    return "\n".join(lines)


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f}"
