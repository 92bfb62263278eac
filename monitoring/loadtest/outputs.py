"""The files a load test writes when asked: JSON (everything), a plot, a CSV of every
turn, and the checks as JUnit XML."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

from monitoring.loadtest.config import LoadConfig
from monitoring.loadtest.inbox import TurnResult
from monitoring.loadtest.report import Report
from monitoring.loadtest.verdict import Check, write_junit

TURN_COLUMNS = [f.name for f in dataclasses.fields(TurnResult)]


def write_csv(report: Report, path: Path) -> None:
    """One row per turn, the JSON's ``per_turn`` fields as columns (empty: not measured)."""
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=TURN_COLUMNS)
        writer.writeheader()
        for turn in report.per_turn:
            row = dataclasses.asdict(turn)
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def write_outputs(report: Report, config: LoadConfig,
                  found: list[Check] | None = None) -> list[tuple[str, Path]]:
    """Every file the config asks for; returns (what, where) for each written."""
    written: list[tuple[str, Path]] = []
    if config.out is not None:
        config.out.write_text(json.dumps(report.to_json(), indent=1) + "\n")
        written.append(("JSON", config.out))
    if config.plot is not None:
        from monitoring.loadtest.plot import write_plot  # matplotlib only when asked for

        write_plot(report, config.plot)
        written.append(("plot", config.plot))
    if config.csv is not None:
        write_csv(report, config.csv)
        written.append(("CSV", config.csv))
    if config.junit is not None:
        write_junit(found or [], report, config.junit)
        written.append(("JUnit", config.junit))
    return written
