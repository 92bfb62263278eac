"""Problems the person can act on, with the button that recovers (ids: ``status-*``).

The message and the button's label and action are set by ``assets/state.js``; the
button runs whatever recovery the current problem offers (reconnect, retry, start).
"""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, dcc, html

from components.callbacks import clientside_callback
from components.i18n import tr


def render() -> html.Div:
    return html.Div(
        id="status-panel",
        className="status-panel",
        style={"display": "none"},
        role="alert",
        children=[
            fac.AntdAlert(id="status-alert", message="", type="error", showIcon=True),
            fac.AntdButton(tr("Retry"), id="status-action", type="primary",
                           style={"display": "none"}, **{"aria-label": tr("Retry")}),
            dcc.Store(id="status-sink"),
        ],
    )


clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onRecover"),
    Output("status-sink", "data"),
    Input("status-action", "nClicks"),
    prevent_initial_call=True,
)
