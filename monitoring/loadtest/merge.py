"""One report from several load testers' JSON results (``--out``): one process drives a
few hundred sessions at most, so a bigger test runs several, on one machine or many, and
this adds them up (``python -m monitoring.loadtest.merge A.json B.json --out all.json``).

Turns and sessions are recounted from every record, so the latency percentiles are of all
the turns together, not averages of percentiles. The testers' own pacing is summed where
it is a count and the worst taken where it is a percentile (the histograms are not in the
JSON); the server's figures are each file's, kept side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from monitoring.loadtest.config import LoadConfig
from monitoring.loadtest.inbox import Move, SessionResult, TurnResult
from monitoring.loadtest.outputs import write_outputs
from monitoring.loadtest.report import PacingLag, Report, build_report, format_report
from monitoring.loadtest.stats import LagHistogram
from monitoring.loadtest.verdict import Thresholds, checks, format_checks


class MergeError(ValueError):
    """A file that is not a load tester's JSON, or runs that cannot be added up."""


def read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise MergeError(f"{path}: not readable as JSON ({exc})") from exc
    if not isinstance(data, dict) or not {"parameters", "per_turn", "per_session"} <= data.keys():
        raise MergeError(f"{path}: not a load tester's --out file")
    return data


def merge(runs: list[dict[str, Any]]) -> Report:
    """The runs as one; sessions are numbered on from one file to the next."""
    if not runs:
        raise MergeError("nothing to merge")
    urls = {run["parameters"]["url"] for run in runs}
    if len(urls) > 1:
        raise MergeError(f"the runs tested different servers: {', '.join(sorted(urls))}")
    sessions: list[SessionResult] = []
    turns: list[TurnResult] = []
    for run in runs:
        offset = len(sessions)
        sessions += [SessionResult(**{**s, "session": s["session"] + offset,
                                      "moves": [Move(**m) for m in s.get("moves", [])]})
                     for s in run["per_session"]]
        turns += [TurnResult(**{**t, "session": t["session"] + offset}) for t in run["per_turn"]]
    first = runs[0]["parameters"]
    config = LoadConfig(url=first["url"], sessions=len(sessions), turns=first["turns"],
                        ramp_up_s=max(run["parameters"]["ramp_up_s"] for run in runs), audio=(),
                        barge_in_every=first["barge_in_every"], duration_s=first.get("duration_s"))
    errors: Counter[str] = Counter()
    for run in runs:
        errors.update(run.get("errors_by_code", {}))
    duration = max(run["duration_s"] for run in runs)
    report = build_report(
        config, sessions, turns, lag=LagHistogram(), server={
            "collected": False, "merged": [run["server"] for run in runs],
            "note": f"each tester's own polls, in the JSON (server.merged, {len(runs)} files)"},
        errors=errors, active=[], started_at=min(run["started_at"] for run in runs), duration_s=duration,
        completed=all(run["completed"] for run in runs))
    report.parameters["merged_from"] = len(runs)
    return dataclasses.replace(report, pacing_lag_ms=_pacing(runs))


def _pacing(runs: list[dict[str, Any]]) -> PacingLag:
    parts = [run["pacing_lag_ms"] for run in runs]
    worst = [p for p in parts if p["frames"]]

    def most(key: str) -> float | None:
        values = [p[key] for p in worst if p[key] is not None]
        return max(values) if values else None

    cpu = [p["tester_cpu_percent"] for p in parts if p.get("tester_cpu_percent") is not None]
    return PacingLag(sum(p["frames"] for p in parts), most("p50"), most("p95"), most("max"),
                     sum(p["late_frames"] for p in parts), all(p["kept_real_time"] for p in worst),
                     round(sum(cpu), 1) if cpu else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.loadtest.merge",
                                     description="Add up several load testers' --out files.")
    parser.add_argument("results", type=Path, nargs="+", metavar="JSON", help="the testers' --out files")
    parser.add_argument("--out", type=Path, help="write the merged results as JSON here")
    parser.add_argument("--csv", type=Path, help="write every turn as a row of this CSV file")
    parser.add_argument("--junit", type=Path, help="write the checks as a JUnit XML test suite")
    parser.add_argument("--max-p95-ms", type=float, metavar="MS", help="exit 1 if the merged p95 is over MS")
    parser.add_argument("--max-failed", type=int, metavar="N", help="exit 1 if more than N failed")
    parser.add_argument("--fail-on-errors", action="store_true", help="exit 1 if anything failed")
    args = parser.parse_args(argv)
    try:
        report = merge([read(path) for path in args.results])
    except MergeError as exc:
        print(f"merge: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    found = checks(report, Thresholds(args.max_p95_ms, args.max_failed, args.fail_on_errors))
    if found:
        print("Checks\n" + format_checks(found))
    config = LoadConfig(audio=(), out=args.out, csv=args.csv, junit=args.junit)
    for label, path in write_outputs(report, config, found):
        print(f"  {label:<20}{path}")
    return 1 if any(not c.passed for c in found) else 0


if __name__ == "__main__":
    sys.exit(main())
