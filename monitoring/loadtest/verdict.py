"""Whether a load test passed: the checks asked for on the command line, as lines for
the console, an exit code, and a JUnit XML file for CI systems that read one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from monitoring.loadtest.report import Report


@dataclass(frozen=True)
class Thresholds:
    """``None``: not checked. ``fail_on_errors``: any failure at all fails the run."""
    max_p95_ms: float | None = None  # voice-to-voice p95, as the tester measured it
    max_failed: int | None = None  # turns and sessions that failed or were refused
    fail_on_errors: bool = False


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def failed_count(report: Report) -> int:
    """Turns that failed or never ran, and sessions that failed or were refused."""
    return (report.turns.failed + report.turns.not_run + report.sessions.failed
            + report.sessions.refused)


def checks(report: Report, thresholds: Thresholds) -> list[Check]:
    """One check per threshold given (none given: none)."""
    found: list[Check] = []
    if thresholds.max_p95_ms is not None:
        p95 = report.v2v_ms.p95
        passed = p95 is not None and p95 <= thresholds.max_p95_ms
        measured = "no turn was answered" if p95 is None else f"{p95:.0f} ms"
        found.append(Check("voice-to-voice p95", passed,
                           f"{measured} (at most {thresholds.max_p95_ms:.0f} ms)"))
    if thresholds.max_failed is not None:
        failed = failed_count(report)
        found.append(Check("failures", failed <= thresholds.max_failed,
                           f"{failed} failed or refused (at most {thresholds.max_failed})"))
    if thresholds.fail_on_errors:
        found.append(Check("no errors", not report.had_failures,
                           "none" if not report.had_failures else _failures(report)))
    return found


def _failures(report: Report) -> str:
    parts = [f"{report.turns.failed} turns failed", f"{report.turns.not_run} not run",
             f"{report.sessions.failed} sessions failed", f"{report.sessions.refused} refused"]
    if not report.completed:
        parts.append("stopped early")
    return ", ".join(parts)


def format_checks(found: list[Check]) -> str:
    return "\n".join(f"  {'PASS' if c.passed else 'FAIL'}  {c.name}: {c.detail}" for c in found)


def write_junit(found: list[Check], report: Report, path: Path) -> None:
    """One test suite, one test case per check (a run with no checks: one case, the run)."""
    cases = found or [Check("run", report.completed, "completed" if report.completed else "stopped early")]
    suite = ElementTree.Element(
        "testsuite", name="voicechat-loadtest", tests=str(len(cases)),
        failures=str(sum(not c.passed for c in cases)), errors="0",
        time=f"{report.duration_s:.3f}", timestamp=report.started_at)
    for check in cases:
        case = ElementTree.SubElement(suite, "testcase", classname="loadtest", name=check.name,
                                      time=f"{report.duration_s:.3f}")
        if not check.passed:
            ElementTree.SubElement(case, "failure", message=check.detail).text = check.detail
        ElementTree.SubElement(case, "system-out").text = check.detail
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
