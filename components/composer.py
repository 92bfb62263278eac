"""A text box to type instead of speaking; the reply is still spoken (ids: ``composer-*``)."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, State, html

from components.callbacks import clientside_callback
from components.i18n import tr
from core.transport.wire import MAX_TEXT_CHARS


def render() -> html.Div:
    return html.Div(
        className="composer",
        children=[
            fac.AntdInput(
                id="composer-input", placeholder=tr("Type a message and press Enter"),
                maxLength=MAX_TEXT_CHARS, allowClear=True, size="large",
                **{"aria-label": tr("Message to the assistant")},
            ),
            fac.AntdButton(tr("Send"), id="composer-send", size="large",  # (Start is the one primary action)
                           icon=fac.AntdIcon(icon="antd-send"),
                           **{"aria-label": tr("Send the message")}),
        ],
    )


clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onSend"),
    Output("composer-input", "value"),
    Input("composer-input", "nSubmit"),
    Input("composer-send", "nClicks"),
    State("composer-input", "value"),
    prevent_initial_call=True,
)
