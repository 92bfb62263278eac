"""The README must stay true to the code it describes."""

from __future__ import annotations

from core.settings import settings_table
from tests.conftest import ROOT


def test_readme_documents_every_setting_with_its_default() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, default, _doc in settings_table():
        assert f"| `{name}` | `{default}` |" in readme, name


def test_readme_quick_start_is_make_run_and_make_test() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    assert quick_start.split() == ["sh", "make", "run", "make", "test"]
