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
