"""The capacity command's rules: what counts as holding, and its arguments."""

from __future__ import annotations

import argparse

import pytest

from monitoring.loadtest.capacity import _steps, holds


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
