"""The targets ``make bench`` holds its figures to (docs/performance.md, issue 3): a run
that misses one exits non-zero and says which."""

from __future__ import annotations

import sys
from typing import Any

V2V_P50_MS = 700.0
V2V_P95_MS = 1000.0
BARGE_IN_P95_MS = 150.0
CUT_OFF_SHARE = 0.05
SHORT_ANSWERS_SHARE = 0.95  # issue 17: one-word answers answered, each kind of material
# Issue 17, each kind of monologue material: reply audio heard while the person goes on.
OVER_TALKER_S_PER_MINUTE = 0.5
BACKCHANNELS_STOPPING_SHARE = 0.10  # issue 17: "mhm" over a reply that stopped it, each kind
ECHO_SELF_INTERRUPTIONS = 0  # issue 17: replies that stopped for their own echo, each level
# Issue 17: voice-to-voice after a finished sentence of human speech (the recorded phrases).
HUMAN_V2V_P50_MS = 450.0
HUMAN_V2V_P95_MS = 650.0


def report(misses: list[str]) -> int:
    """Say which targets were missed (or that all were met), on stderr; the exit status."""
    print("targets missed: " + "; ".join(misses) if misses else "all targets met", file=sys.stderr)
    return 1 if misses else 0


def _at_most(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit


def _monologue_checks(kinds: dict[str, Any]) -> dict[str, bool]:
    checks = {}
    for kind, figures in kinds.items():
        checks[f"{kind}: reply audio over the talker at most {OVER_TALKER_S_PER_MINUTE:g} s a minute"] = (
            _at_most(figures["over_s_per_minute"], OVER_TALKER_S_PER_MINUTE))
        checks[f"{kind}: monologues cut off at most {CUT_OFF_SHARE:.0%}"] = _at_most(
            figures["cut_off_share"], CUT_OFF_SHARE)
        checks[f"{kind}: every monologue answered after its end"] = (
            figures["answered_after_end"] == figures["monologues"])
    return checks


def missed_targets(summary: dict[str, Any]) -> list[str]:
    """The targets ``summary`` (the bench's JSON line) misses; none when all are met."""
    v2v, barge_in, cut_offs = summary["v2v_ms"], summary["barge_in_ms"], summary["false_cut_offs"]
    skipped = not summary["turns"]  # (not measured this run: --parts)
    checks = {
        "every turn answered": summary["failed_turns"] == 0,
        f"voice-to-voice p50 at most {V2V_P50_MS:g} ms": skipped or _at_most(v2v["p50"], V2V_P50_MS),
        f"voice-to-voice p95 at most {V2V_P95_MS:g} ms": skipped or _at_most(v2v["p95"], V2V_P95_MS),
        f"barge-in p95 at most {BARGE_IN_P95_MS:g} ms": (barge_in["n"] == 0 or (
            barge_in["failed"] == 0 and _at_most(barge_in["p95"], BARGE_IN_P95_MS))),
        f"false cut-offs at most {CUT_OFF_SHARE:.0%}": (cut_offs["n"] == 0
                                                         or _at_most(cut_offs["share"], CUT_OFF_SHARE)),
        "no audio of a cleared turn after its clear": summary["audio_after_clear"] == 0,
        **{f"{kind} one-word answers answered at least {SHORT_ANSWERS_SHARE:.0%}": figures["share"]
           >= SHORT_ANSWERS_SHARE for kind, figures in summary.get("short_answers", {}).items()},
        **_monologue_checks(summary.get("monologues", {})),
        **{f"{kind} backchannels that stopped the reply at most {BACKCHANNELS_STOPPING_SHARE:.0%}":
           figures["measured"] == figures["n"]
           and _at_most(figures["stopped_share"], BACKCHANNELS_STOPPING_SHARE)
           for kind, figures in summary.get("backchannels", {}).items()},
    }
    for kind, levels in summary.get("echo", {}).items():
        for level, figures in levels.items():
            checks[f"{kind} echo at {level}: every reply answered, none interrupted by its echo"] = (
                figures["answered"] == figures["replies"]
                and figures["self_interrupted"] <= ECHO_SELF_INTERRUPTIONS)
            checks[f"{kind} echo at {level}: barge-in p95 at most {BARGE_IN_P95_MS:g} ms"] = (
                figures["barge_ins_failed"] == 0 and _at_most(figures["barge_in_ms_p95"], BARGE_IN_P95_MS))
    human = summary.get("v2v_ms_by_kind", {}).get("human-phrases", {})
    if human.get("n"):
        checks[f"human-phrases voice-to-voice p50 at most {HUMAN_V2V_P50_MS:g} ms"] = _at_most(
            human["p50"], HUMAN_V2V_P50_MS)
        checks[f"human-phrases voice-to-voice p95 at most {HUMAN_V2V_P95_MS:g} ms"] = _at_most(
            human["p95"], HUMAN_V2V_P95_MS)
    return [name for name, met in checks.items() if not met]
