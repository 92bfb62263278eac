"""The targets ``make bench`` holds its figures to (docs/performance.md, issue 3): a run
that misses one exits non-zero and says which."""

from __future__ import annotations

from typing import Any

V2V_P50_MS = 700.0
V2V_P95_MS = 1000.0
BARGE_IN_P95_MS = 150.0
CUT_OFF_SHARE = 0.05
SHORT_ANSWERS_SHARE = 0.95  # issue 17: one-word answers answered, each kind of material


def _at_most(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit


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
    }
    return [name for name, met in checks.items() if not met]
