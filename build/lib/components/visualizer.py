"""Live spectrum of the microphone and of the reply while it plays (ids: ``visualizer-*``).

Drawn by ``assets/visualizer.js`` from AnalyserNodes, at most 30 times a second; the
canvas is decoration, so it is hidden from screen readers (the state label speaks).
"""

from __future__ import annotations

from dash import html


def render() -> html.Section:
    return html.Section(
        className="panel visualizer-panel",
        **{"aria-label": "Sound levels"},
        children=[
            html.Canvas(id="visualizer-canvas", className="visualizer-canvas", width=560, height=120,
                        **{"aria-hidden": "true"}),
            html.Div(
                className="visualizer-legend",
                children=[
                    html.Span(className="legend-mic", children="You"),
                    html.Span(className="legend-reply", children="Assistant"),
                ],
            ),
        ],
    )
