"""Who is talking, at a glance, over the live spectrum of the microphone and of the reply
(ids: ``visualizer-*``).

Two faces, you (blue) and the assistant (green): the one whose turn it is lights up,
pulsing while its voice is heard; the assistant's shows dots while it thinks. The state
manager (``assets/state.js``) sets the row's class. The spectrum is drawn by
``assets/visualizer.js`` from AnalyserNodes, at most 20 times a second. Both are
decoration, hidden from screen readers: the state label speaks.
"""

from __future__ import annotations

import feffery_antd_components as fac
from dash import html

from components.i18n import tr


def face(side: str, icon: str, name: str) -> html.Div:
    return html.Div(className=f"who-side who-{side}", children=[
        html.Span(className="who-face", children=[fac.AntdIcon(icon=icon), html.Span(className="who-dots")]),
        html.Span(name, className="who-name"),
    ])


def render() -> html.Section:
    return html.Section(
        className="panel visualizer-panel",
        **{"aria-label": tr("Sound levels")},
        children=[
            html.Div(id="visualizer-who", className="who who-idle", **{"aria-hidden": "true"}, children=[
                face("you", "antd-user", tr("You")),
                face("assistant", "antd-robot", tr("Assistant")),
            ]),
            html.Canvas(id="visualizer-canvas", className="visualizer-canvas", width=560, height=120,
                        **{"aria-hidden": "true"}),
        ],
    )
