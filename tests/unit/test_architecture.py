"""The tree shows the architecture, and the imports keep to it (docs/architecture.md).

Read from the source with ``ast`` (imports inside functions count too): ``core`` imports
only downwards through its layers and never ``monitoring``, ``components`` or ``app``;
no two modules and no two packages import each other, however indirectly; no file
(Python, or the page's JavaScript) is longer than ``MAX_LINES`` but plain declaration
lists.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Lowest first. A module may import from its own layer's packages and from lower ones.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core.settings", "core.errors", "core.metrics", "core.bugs", "core.log_format"),
    ("core.audio", "core.store"),
    ("core.providers",),
    ("core.conversation",),
    ("core.session",),
    ("core.runtime",),
    ("core.transport",),
    ("core.phone",),
)
# Packages for the cycle check between packages: each of core's layers' entries, the
# subpackages of monitoring, the page's components and the entry point.
MONITORING = ("monitoring.metrics", "monitoring.clients", "monitoring.servers", "monitoring.bench",
              "monitoring.loadtest", "monitoring.soak")
MAX_LINES = 300
DECLARATION_LISTS = {"core/settings.py"}  # one declaration a setting, with its documentation
SOURCES = ("app.py", "core", "monitoring", "components", "tests")


def python_files() -> Iterator[Path]:
    for source in SOURCES:
        path = ROOT / source
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in python_files()}


def imports_of(path: Path) -> set[str]:
    """The project's modules ``path`` imports (``from package import module`` included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


GRAPH = {name: imports_of(path) - {name} for name, path in MODULES.items()}


def package_of(module: str) -> str | None:
    for group in (*LAYERS, MONITORING, ("components", "app", "tests")):
        for package in group:
            if module == package or module.startswith(package + "."):
                return package
    return None


def layer_of(module: str) -> int | None:
    for index, packages in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in packages):
            return index
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_core_module_has_a_layer() -> None:
    assert [m for m in MODULES if m.startswith("core.") and layer_of(m) is None] == []


def test_core_imports_nothing_above_it() -> None:
    upward = {(m, i) for m, deps in GRAPH.items() if m.startswith("core")
              for i in deps if not i.startswith("core")}
    assert upward == set()


def test_core_imports_only_go_down_its_layers() -> None:
    upward = []
    for module, deps in GRAPH.items():
        own = layer_of(module)
        if own is None:
            continue
        upward += [f"{module} -> {dep}" for dep in deps if (layer_of(dep) or 0) > own]
    assert upward == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(GRAPH) == []


def test_no_import_cycle_between_packages() -> None:
    packages: dict[str, set[str]] = {}
    for module, deps in GRAPH.items():
        own = package_of(module)
        if own is None:
            continue
        packages.setdefault(own, set()).update(
            p for p in (package_of(d) for d in deps) if p is not None and p != own)
    assert cycles(packages) == []


@pytest.mark.parametrize("path", [*(p for p in python_files() if p.parent.name != "fixtures"),
                                  *sorted((ROOT / "assets").rglob("*.js"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_is_longer_than_the_limit(path: Path) -> None:
    if str(path.relative_to(ROOT)) in DECLARATION_LISTS:
        return
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{lines} lines: does it do more than one job?"


def test_the_checks_see_an_upward_import_and_a_cycle() -> None:
    """The checks themselves can fail."""
    assert layer_of("core.conversation.engine") > layer_of("core.audio.segmenter")  # type: ignore[operator]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "core.session.session" in GRAPH["core.transport.browser"]
