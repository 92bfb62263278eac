"""``make bench`` exits non-zero when a figure misses its target (docs/performance.md)."""

from __future__ import annotations

import copy
import json

from monitoring.bench.targets import missed_targets
from tests.conftest import ROOT


def recorded() -> dict:
    return json.loads((ROOT / "docs" / "results" / "bench-conversation.json").read_text())


def test_the_recorded_run_meets_every_target() -> None:
    assert missed_targets(recorded()) == []


def test_each_missed_target_is_named() -> None:
    slow = copy.deepcopy(recorded())
    slow["v2v_ms"]["p50"] = 1113.4
    late = copy.deepcopy(recorded())
    late["barge_in_ms"]["p95"] = 151.0
    leaked = copy.deepcopy(recorded())
    leaked["audio_after_clear"] = 2
    assert missed_targets(slow) == ["voice-to-voice p50 at most 700 ms"]
    assert missed_targets(late) == ["barge-in p95 at most 150 ms"]
    assert missed_targets(leaked) == ["no audio of a cleared turn after its clear"]
