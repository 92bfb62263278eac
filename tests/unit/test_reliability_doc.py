"""docs/reliability.md shows exactly the figures of docs/results/soak.json."""

from __future__ import annotations

import json

from monitoring.soak.markdown import ATTACKS_BEGIN, ATTACKS_END, BEGIN, END, render, render_attacks
from tests.conftest import ROOT


def test_the_attacks_shown_are_the_recorded_ones() -> None:
    results = json.loads((ROOT / "docs" / "results" / "attack.json").read_text())
    doc = (ROOT / "docs" / "reliability.md").read_text()
    block = ATTACKS_BEGIN + doc.split(ATTACKS_BEGIN, 1)[1].split(ATTACKS_END, 1)[0] + ATTACKS_END
    assert block == render_attacks(results), "run make attack to rewrite it"
    assert all(r["held"] for r in results)


def test_the_documents_figures_are_the_recorded_ones() -> None:
    figures = json.loads((ROOT / "docs" / "results" / "soak.json").read_text())
    doc = (ROOT / "docs" / "reliability.md").read_text()
    block = BEGIN + doc.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert block == render(figures), "run make soak (or monitoring.soak.markdown) to rewrite it"
