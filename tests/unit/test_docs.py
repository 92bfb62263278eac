"""The README must stay true to the code it describes."""

from __future__ import annotations

import re

from core.settings import settings_table
from tests.conftest import ROOT

TOP_LEVEL = ("app.py", "core", "monitoring", "components", "assets", "tests", "docs")


def test_readme_documents_every_setting_with_its_default() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, default, _doc in settings_table():
        assert f"| `{name}` | `{default}` |" in readme, name


def test_readme_quick_start_is_make_run_and_make_test() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    assert quick_start.split() == ["sh", "make", "run", "make", "test"]


def backticked_paths(text: str) -> set[str]:
    """Paths the text names in backticks (``core/session/``, ``app.py``...)."""
    return {m for m in re.findall(r"`([\w./-]+)`", text)
            if ("/" in m and m.split("/")[0] in TOP_LEVEL) or m in TOP_LEVEL}


def test_the_readme_layout_names_every_folder_and_only_what_exists() -> None:
    layout = (ROOT / "README.md").read_text().split("## Layout", 1)[1]
    named = backticked_paths(layout)
    assert [p for p in named if not (ROOT / p).exists()] == []
    folders = {f"{d.relative_to(ROOT)}/" for top in ("core", "monitoring") for d in (ROOT / top).iterdir()
               if d.is_dir() and (d / "__init__.py").exists()}
    assert folders - named == set()


def tree_listing(tree: str) -> dict[str, set[str]]:
    """The names listed after each folder of the tree (continuation lines are indented 16)."""
    listed: dict[str, set[str]] = {}
    folder: str | None = None
    for line in tree.splitlines():
        head = re.match(r"\s*(\w+)/\s", line + " ")
        if head:
            folder = head.group(1)
        elif not line.startswith(" " * 16):
            folder = None  # a line of files
        if folder:
            listed.setdefault(folder, set()).update(re.findall(r"[a-z_]+", line))
    return listed


def test_the_architecture_names_only_what_exists_and_lists_every_module() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = backticked_paths(text) | set(re.findall(r"(?:core|monitoring)/[\w/]+\.py", text))
    assert [p for p in named if not (ROOT / p).exists()] == []
    tree = text.split("## The tree", 1)[1].split("```", 2)[1]
    listed = tree_listing(tree)
    missing = []
    for module in [*(ROOT / "core").rglob("*.py"), *(ROOT / "monitoring").rglob("*.py")]:
        if module.stem.startswith("__"):
            continue
        folder = module.parent.name
        found = (f"{module.stem}.py" in tree if folder in ("core", "monitoring")
                 else module.stem in listed.get(folder, set()))
        missing += [] if found else [str(module.relative_to(ROOT))]
    assert missing == [], "not in the tree of docs/architecture.md"
