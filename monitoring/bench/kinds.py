"""Figures per kind of material, never mixed: results grouped by their ``kind``."""

from __future__ import annotations

from typing import Any


def by_kind(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The results of each kind, kinds in the order they first appear."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        groups.setdefault(result["kind"], []).append(result)
    return groups
