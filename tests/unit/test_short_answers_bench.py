"""The one-word-answer figures: counted per kind of material, never mixed; the target
applies to each kind."""

from __future__ import annotations

from monitoring.bench.short_answers import heard_right, summarize
from monitoring.bench.targets import missed_targets


def result(kind: str, answered: bool, word: str = "Yes", transcript: str = "Yes.") -> dict:
    return {"kind": kind, "voice": "en-us", "word": word, "answered": answered,
            "heard_right": heard_right(word, transcript), "transcript": transcript}


def test_each_kind_is_counted_apart_and_held_to_the_target() -> None:
    results = [result("plain", True)] * 20 + [result("quick", True)] * 18 + [result("quick", False)] * 2
    kinds = summarize(results)
    assert kinds == {"plain": {"n": 20, "answered": 20, "share": 1.0, "heard_right": 20},
                     "quick": {"n": 20, "answered": 18, "share": 0.9, "heard_right": 20}}
    summary = {"turns": 0, "failed_turns": 0, "v2v_ms": {"p50": None, "p95": None},
               "barge_in_ms": {"n": 0}, "false_cut_offs": {"n": 0}, "audio_after_clear": 0,
               "short_answers": kinds}
    assert missed_targets(summary) == ["quick one-word answers answered at least 95%"]


def test_a_number_word_may_be_written_as_a_digit() -> None:
    assert heard_right("Seven", "7") and heard_right("Seven", "Seven.") and not heard_right("Seven", "Even")
