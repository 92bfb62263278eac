"""The capacity command's rules: what counts as holding, and its arguments."""

from __future__ import annotations

import argparse

import pytest

from monitoring.loadtest.capacity import _setups, _steps, holds
from monitoring.loadtest.capacity_targets import Setup


def row(p95: float | None, turns_failed: int = 0, sessions_failed: int = 0, refused: int = 0) -> dict:
    return {"v2v_p95_ms": p95, "turns_failed": turns_failed, "sessions_failed": sessions_failed,
            "refused": refused}


def test_a_step_holds_only_with_no_failure_and_p95_within_the_limit() -> None:
    assert holds(row(1_180.0), 1_200.0)
    assert holds(row(1_200.0), 1_200.0)
    assert not holds(row(1_201.0), 1_200.0)
    assert not holds(row(900.0, turns_failed=1), 1_200.0)
    assert not holds(row(900.0, sessions_failed=1), 1_200.0)
    assert not holds(row(900.0, refused=1), 1_200.0)
    assert not holds(row(None), 1_200.0)  # no turn measured
    assert not holds(row(900.0), None)  # no floor to compare with


def test_session_counts_are_read_as_a_list() -> None:
    assert _steps("1,25, 50") == [1, 25, 50]
    assert _steps("") == []
    with pytest.raises(argparse.ArgumentTypeError):
        _steps("1,many")


def test_setups_are_read_as_workers_and_the_speech_model_mode() -> None:
    assert _setups("1w-batched, 2w-per-chunk") == [Setup(1, True), Setup(2, False)]
    assert Setup(2, True).name == "2w-batched" and "HAProxy" in Setup(2, True).label
    for bad in ("0w-batched", "2w-fast", "two"):
        with pytest.raises(argparse.ArgumentTypeError):
            _setups(bad)
