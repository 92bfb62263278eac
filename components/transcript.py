"""The conversation as it happens: who said what, when, and how fast (ids: ``transcript-*``).

The list is filled by ``assets/state.js``: the person's words as soon as they are
recognized, the reply sentence by sentence as it is spoken, a cut reply marked, and
each reply's latency in its header.
"""

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
            **{"aria-live": "polite", "aria-label": "Conversation history"},
            children=html.Div(
                "Press Start and ask a question, or type one below.", className="transcript-empty"
            ),
        ),
    )
