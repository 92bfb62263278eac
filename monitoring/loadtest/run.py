"""Load tester for QA: many concurrent voice sessions against a running server.

    python -m monitoring.loadtest --url ws://127.0.0.1:8050/ws/voice --sessions 50 --turns 3 \\
        --ramp-up 10 [--audio WAV...] [--admin-token T] [--out results.json] [--plot results.png]

Each session speaks real questions at real-time pace in 20 ms frames and keeps sending
room noise while it waits, as an open microphone does. At the end it prints the
sessions and turns that worked, voice-to-voice latency, barge-in reaction, how well the
tester itself kept real time, and the server's CPU and memory (with an admin token).
All sessions run on one asyncio event loop, so one process drives hundreds of them.

Exit codes: 0 the run completed (failed turns are in the report), 1 it could not run
(server unreachable, no session connected) or ``--fail-on-errors`` found failures,
2 bad arguments or audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import resource
import signal
import sys
import time
from collections import Counter
from typing import TextIO

from monitoring.loadtest.audio import AudioError, QuietFrames, load_clips
from monitoring.loadtest.config import LoadConfig, check_config, parse_config
from monitoring.loadtest.dial import CLOSE_TIMEOUT_S
from monitoring.loadtest.outputs import write_outputs
from monitoring.loadtest.plan import SessionPlan
from monitoring.loadtest.report import Report, build_report, format_report
from monitoring.loadtest.server import ServerUnreachable, ServerWatch, check_reachable
from monitoring.loadtest.session import SessionRunner
from monitoring.loadtest.stats import LiveStats
from monitoring.loadtest.verdict import Thresholds, checks, format_checks

PROGRESS_S = 1.0
SLACK_S = 30.0  # on top of the slowest possible run, before the run stops itself
FILES_PER_SESSION = 2  # its socket, and room for the server polls and the rest


def time_bound_s(config: LoadConfig, longest_clip_s: float) -> float:
    """The longest a run can take if every wait runs to its timeout; it stops by then."""
    per_turn = longest_clip_s + 2 * config.turn_timeout_s + config.think_ms / 1000.0
    start = config.connect_timeout_s + config.turn_timeout_s
    asking = config.duration_s + per_turn if config.duration_s is not None else config.turns * per_turn
    return config.ramp_up_s + start + asking + CLOSE_TIMEOUT_S * 2 + SLACK_S


def _raise_file_limit(sessions: int) -> None:
    """Each session is an open socket: lift the soft limit on open files if it is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = sessions * FILES_PER_SESSION + 64
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        with contextlib.suppress(ValueError, OSError):  # not allowed: the connects will say so
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _show_progress(live: LiveStats, t0: float, out: TextIO | None) -> None:
    overwrite = out is not None and out.isatty()
    while True:
        await asyncio.sleep(PROGRESS_S)
        elapsed = time.monotonic() - t0
        live.sample_active(elapsed)
        if out is not None:
            line = live.status_line(elapsed)
            out.write(f"\r{line:<120}" if overwrite else line + "\n")
            out.flush()


async def run(config: LoadConfig, progress: TextIO | None = None,
              stop: asyncio.Event | None = None) -> Report:
    """Run the load test; ``stop`` (when set) ends it early with what was measured so far."""
    check_config(config)
    clips = load_clips(config.audio)
    await check_reachable(config.url)
    _raise_file_limit(config.sessions)
    watch = ServerWatch(config.url, config.admin_token, log=progress)
    watch.before = await watch.sample(time.monotonic(), keep=False)
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    t0 = time.monotonic()
    until = t0 + config.duration_s if config.duration_s is not None else None
    plan = SessionPlan(config.url, config.turns, config.barge_in_every, config.turn_timeout_s,
                       config.think_ms / 1000.0, config.connect_timeout_s, t0, until)
    live = LiveStats(config.sessions)
    live.sample_active(0.0)
    cpu_before = _cpu_seconds()
    quiet = QuietFrames(config.seed)
    runners = [SessionRunner(i, plan, clips, quiet, live) for i in range(config.sessions)]
    step = config.ramp_up_s / config.sessions
    bound = time_bound_s(config, max(c.seconds for c in clips))
    completed = True
    async with asyncio.TaskGroup() as group:
        helpers = [group.create_task(_show_progress(live, t0, progress), name="loadtest-progress"),
                   group.create_task(watch.poll(t0), name="loadtest-server-poll")]
        sessions = [group.create_task(r.run(t0 + i * step), name=f"loadtest-session-{i}")
                    for i, r in enumerate(runners)]
        waiters = [group.create_task(asyncio.wait(sessions), name="loadtest-sessions")]
        if stop is not None:
            waiters.append(group.create_task(stop.wait(), name="loadtest-stop"))
        done, _ = await asyncio.wait(waiters, timeout=bound, return_when=asyncio.FIRST_COMPLETED)
        if waiters[0] not in done:  # stopped, or past the bound: end the sessions where they are
            completed = False
            for task in sessions:
                task.cancel()
        for task in (*waiters, *helpers):
            task.cancel()
    if progress is not None and progress.isatty():
        progress.write("\n")
    duration = time.monotonic() - t0
    tester_cpu_s = _cpu_seconds() - cpu_before
    live.sample_active(duration)
    watch.after = await watch.sample(t0, keep=False)
    errors: Counter[str] = Counter()
    for runner in runners:
        errors.update(runner.errors)
    return build_report(
        config, [r.result for r in runners], [t for r in runners for t in r.turns], lag=live.lag,
        server=watch.figures(), errors=errors, active=list(live.active_series),
        started_at=started_at, duration_s=duration, completed=completed, tester_cpu_s=tester_cpu_s)


def run_load(config: LoadConfig, progress: TextIO | None = None) -> Report:
    """``run`` on a fresh event loop, then the JSON and plot (when asked for), as the
    command line does, for callers that are not async."""
    report = asyncio.run(run(config, progress))
    write_outputs(report, config, checks(report, thresholds(config)))
    return report


async def _run_until_interrupted(config: LoadConfig, progress: TextIO | None) -> Report:
    """Ctrl-C ends the sessions and still prints what was measured."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        return await run(config, progress, stop)
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def console() -> None:
    """The ``voicechat-loadtest`` command."""
    sys.exit(main())


def main(argv: list[str] | None = None) -> int:
    config, show_progress = parse_config(argv)
    try:
        report = asyncio.run(_run_until_interrupted(config, sys.stderr if show_progress else None))
    except AudioError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    except ServerUnreachable as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 1
    print(format_report(report))
    found = checks(report, thresholds(config))
    if found:
        print("Checks\n" + format_checks(found))
    for label, path in write_outputs(report, config, found):
        print(f"  {label:<20}{path}")
    if report.sessions.planned and report.sessions.failed == report.sessions.planned and all(
            (s.reason or "").startswith("could not connect") for s in report.per_session):
        print("loadtest: no session could connect", file=sys.stderr)
        return 1
    failed = [c.name for c in found if not c.passed]
    if failed:
        print(f"loadtest: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def thresholds(config: LoadConfig) -> Thresholds:
    return Thresholds(config.max_p95_ms, config.max_failed, config.fail_on_errors)


if __name__ == "__main__":
    sys.exit(main())
