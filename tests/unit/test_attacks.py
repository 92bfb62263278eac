"""``make attack`` holds: every attack of monitoring/soak/attacks.py meets its defence on
a real in-process server set up as docs/deploy.md says."""

from __future__ import annotations

from monitoring.soak.attacks import ATTACKS, run_attacks


def test_every_attack_is_held() -> None:
    results = run_attacks()
    assert [r["attack"] for r in results] == list(ATTACKS)
    broken = {r["attack"]: r["detail"] for r in results if not r["held"]}
    assert broken == {}
