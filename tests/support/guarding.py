"""Helpers for the tests of the guarded providers: a fast recovery policy, renaming."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.providers.guards.guard import RecoveryPolicy

FAST = RecoveryPolicy(attempt_timeout_s=0.2, attempts=2, backoff_initial_s=0.01, backoff_max_s=0.02,
                      failure_threshold=3, probe_interval_s=30.0)


def policy(**changes: Any) -> RecoveryPolicy:
    return dataclasses.replace(FAST, **changes)


def named(provider: Any, name: str) -> Any:
    provider.name = name
    return provider
