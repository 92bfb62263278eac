"""The page's Dash structure: ids prefixed per panel, icons that exist, no audio in Dash."""

from __future__ import annotations

from pathlib import Path

import feffery_antd_components as fac
from dash.development.base_component import Component

from components import composer, controls, layout, settings_panel, status, transcript, visualizer

PANELS = {"controls": controls, "composer": composer, "status": status,
          "transcript": transcript, "visualizer": visualizer, "settings": settings_panel}


def walk(component: object) -> list[Component]:
    if not isinstance(component, Component):
        return []
    found = [component]
    for name in ("children", "icon", "action"):
        value = getattr(component, name, None)
        for child in value if isinstance(value, list | tuple) else [value]:
            found += walk(child)
    return found


def test_every_id_is_prefixed_with_its_panel() -> None:
    for prefix, module in PANELS.items():
        ids = [c.id for c in walk(module.render()) if getattr(c, "id", None)]
        assert ids, prefix
        assert all(i.startswith(f"{prefix}-") for i in ids), (prefix, ids)


def test_the_layout_holds_every_panel_once() -> None:
    ids = [c.id for c in walk(layout.render()) if getattr(c, "id", None)]
    assert len(ids) == len(set(ids))
    for prefix in PANELS:
        assert any(i.startswith(f"{prefix}-") for i in ids), prefix


def test_every_icon_is_one_the_component_library_knows() -> None:
    bundle = (Path(fac.__file__).parent / "feffery_antd_components.min.js").read_text(errors="ignore")
    icons = [c.icon for c in walk(layout.render()) if isinstance(c, fac.AntdIcon)]
    assert icons
    for icon in icons:
        assert f'"{icon}"' in bundle, icon
