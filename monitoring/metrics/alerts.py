"""Where the figures call for an admin's attention: one set of thresholds for the admin
page's cards (drawn in warning colours past them) and the Prometheus alert rules shipped
in deploy/prometheus/alerts.yml (a test holds the two to the same numbers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    voice_to_voice_p95_ms: float = 1000.0  # spoken turns; the product answers in about a second
    barge_in_p95_ms: float = 300.0  # twice the 150 ms the product is held to
    error_rate_percent: float = 5.0  # error events for every 100 turns, over 5 minutes
    cpu_percent: float = 90.0  # of one core, per process, as the admin page shows it


THRESHOLDS = Thresholds()
