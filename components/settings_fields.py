"""The settings drawer's building blocks: a labelled field with its help text, a select
(``settings_panel`` for the session's settings, ``audio_devices`` for the page's sound)."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import html


def field(label: str, help_text: str, control: object, field_id: str | None = None) -> html.Div:
    extra = {"id": field_id} if field_id else {}
    return html.Div(className="settings-field", **extra, children=[
        html.Div(label, className="settings-label"),
        control,
        html.Div(help_text, className="settings-help"),
    ])


def select(component_id: str, options: list[dict[str, str]], label: str, **extra: object) -> fac.AntdSelect:
    return fac.AntdSelect(id=component_id, options=options, allowClear=False, style={"width": "100%"},
                          **{"aria-label": label}, **extra)
