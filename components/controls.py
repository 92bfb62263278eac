"""Start/Stop controls and the conversation state indicator (ids: ``controls-*``)."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, clientside_callback, dcc, html


def render() -> html.Div:
    return html.Div(
        className="controls-panel",
        children=[
            fac.AntdSpace(
                [
                    fac.AntdButton(
                        "Start", id="controls-start", type="primary", size="large",
                        icon=fac.AntdIcon(icon="antd-sound"),
                        **{"aria-label": "Start the conversation"},
                    ),
                    fac.AntdButton(
                        "Stop", id="controls-stop", size="large", disabled=True, danger=True,
                        icon=fac.AntdIcon(icon="antd-stop"),
                        **{"aria-label": "Stop the conversation"},
                    ),
                    fac.AntdTag(id="controls-state", content="Idle", color="default",
                                className="state-tag", **{"aria-live": "polite"}),
                ],
                wrap=True,
            ),
            html.Canvas(id="controls-level", className="level-meter", width=240, height=24,
                        **{"aria-hidden": "true"}),
            fac.AntdAlert(id="controls-error", message="", type="error", showIcon=True,
                          className="error-alert", style={"display": "none"}),
            dcc.Store(id="controls-sink"),
        ],
    )


clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onControl"),
    Output("controls-sink", "data"),
    Input("controls-start", "nClicks"),
    Input("controls-stop", "nClicks"),
    prevent_initial_call=True,
)
