"""axe-core in the page: the WCAG 2.1 A and AA rules, and what it finds serious or
critical. axe-core's own script comes from the ``axe-playwright-python`` wheel (it
carries axe.min.js, so no Node toolchain is needed to run it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import axe_playwright_python

RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


@cache
def axe_script() -> str:
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def serious_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Each serious or critical violation on the page as it is now, with where it is."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_script())
    result = page.evaluate("(rules) => axe.run(document, {runOnly: {type: 'tag', values: rules}})", RULES)
    return [f"{v['id']} ({v['impact']}): {v['help']}; at {[n['target'] for n in v['nodes']][:3]}; "
            f"{' '.join(v['nodes'][0].get('failureSummary', '').split())[:240]}"
            for v in result["violations"] if v["impact"] in BLOCKING]
