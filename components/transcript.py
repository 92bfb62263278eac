"""The conversation as it happens: who said what, and when (ids: ``transcript-*``)."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import html


def render() -> fac.AntdCard:
    return fac.AntdCard(
        title="Conversation",
        className="transcript-panel",
        children=html.Div(
            id="transcript-list",
            className="transcript-list",
            role="log",
            **{"aria-live": "polite"},
            children=html.Div(
                "Press Start and ask a question.", className="transcript-empty"
            ),
        ),
    )
