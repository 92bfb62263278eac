"""``make soak`` exits non-zero when a figure misses its target (docs/reliability.md)."""

from __future__ import annotations

import copy
import json

from monitoring.soak.run import missed_targets
from tests.conftest import ROOT


def recorded() -> dict:
    return json.loads((ROOT / "docs" / "results" / "soak.json").read_text())


def test_the_recorded_figures_meet_every_target() -> None:
    assert missed_targets(recorded()) == []


def test_each_missed_target_is_named() -> None:
    figures = recorded()
    slow = copy.deepcopy(figures)
    slow["faults"]["recovery_p95_s"] = 5.2
    leaky = copy.deepcopy(figures)
    leaky["leaks"]["second_half"]["threads_delta"] = 3
    lost = copy.deepcopy(figures)
    lost["sigkill"]["lost"] = 1
    assert missed_targets(slow) == ["recovery p95 under 5 s"]
    assert missed_targets(leaky) == ["threads and open files back to baseline (second half)"]
    assert missed_targets(lost) == ["no finalized turn lost to SIGKILL"]


def test_a_soak_that_proves_nothing_fails_too() -> None:
    """Figures that look fine but were not earned: a fault that never fired, a leak check
    that never spoke, a session left behind, an attack the healthy sessions missed."""
    figures = recorded()
    unfired = copy.deepcopy(figures)
    unfired["faults"]["fired"] -= 1
    silent = copy.deepcopy(figures)
    silent["leaks"]["speculative_replies"] = 0
    kept = copy.deepcopy(figures)
    kept["leaks"]["sessions_released"] = False
    missed = copy.deepcopy(figures)
    missed["malformed"]["attack_overlap"] = 0.15
    slow = copy.deepcopy(figures)
    slow["malformed"]["sessions_harmed"] = 1  # (an answer past 2 x the normal p95 counts)
    assert missed_targets(unfired) == ["every fault fired"]
    assert missed_targets(silent) == ["the leak check spoke (speculative replies ran)"]
    assert missed_targets(kept) == ["every session released"]
    assert missed_targets(missed) == ["healthy sessions talked through the whole attack"]
    assert missed_targets(slow) == ["no healthy session harmed by malformed input"]


def test_a_slow_answer_under_attack_counts_as_harm() -> None:
    from monitoring.soak.malformed import harmed

    calm = {"errors": [], "answered": 4, "turns": 4, "closed": False, "v2v_ms": [690.0, 700.0]}
    assert not harmed(calm, slow_ms=1400.0)
    assert harmed({**calm, "v2v_ms": [690.0, 1500.0]}, slow_ms=1400.0)
    assert harmed({**calm, "answered": 3}, slow_ms=1400.0)
    assert harmed({**calm, "closed": True}, slow_ms=1400.0)
