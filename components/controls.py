"""Start / Stop / Mute and the conversation state indicator (ids: ``controls-*``)."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, dcc, html

from components.callbacks import clientside_callback
from components.i18n import tr


def render() -> html.Section:
    return html.Section(
        className="panel controls-panel",
        **{"aria-label": tr("Conversation controls")},
        children=[
            html.Div(
                className="controls-row",
                children=[
                    fac.AntdButton(
                        tr("Start"), id="controls-start", type="primary", size="large",
                        icon=fac.AntdIcon(icon="antd-sound"),
                        title=tr("Start talking (S)"),
                        **{"aria-label": tr("Start the conversation"), "aria-keyshortcuts": "S"},
                    ),
                    fac.AntdButton(
                        tr("Stop"), id="controls-stop", size="large", disabled=True, danger=True,
                        icon=fac.AntdIcon(icon="antd-stop"),
                        title=tr("Stop and release the microphone (S or Esc)"),
                        **{"aria-label": tr("Stop the conversation"), "aria-keyshortcuts": "S Escape"},
                    ),
                    fac.AntdButton(
                        tr("Stop talking"), id="controls-interrupt", size="large", disabled=True,
                        icon=fac.AntdIcon(icon="antd-minus-circle"),
                        title=tr("Stop the reply now; the conversation goes on (X)"),
                        **{"aria-label": tr("Stop the reply"), "aria-keyshortcuts": "X"},
                    ),
                    fac.AntdButton(
                        tr("Mute"), id="controls-mute", size="large", disabled=True,
                        icon=fac.AntdIcon(icon="antd-pause"),
                        title=tr("Mute the microphone (M)"),
                        **{"aria-label": tr("Mute the microphone"), "aria-pressed": "false",
                           "aria-keyshortcuts": "M"},
                    ),
                ],
            ),
            html.Div(
                className="state-row",
                children=[
                    html.Span(id="controls-dot", className="state-dot state-idle", **{"aria-hidden": "true"}),
                    html.Span(id="controls-state", className="state-label", children=tr("Idle"),
                              role="status", **{"aria-live": "polite"}),
                    fac.AntdTag(id="controls-muted", content=tr("Microphone muted"), color="orange",
                                style={"display": "none"}),
                ],
            ),
            fac.AntdButton(tr("Hold to talk"), id="controls-talk", size="large", block=True,
                           icon=fac.AntdIcon(icon="antd-sound"), style={"display": "none"},
                           title=tr("Hold while you talk (or hold the space bar)"),
                           **{"aria-label": tr("Hold to talk")}),
            html.Div(id="controls-next", className="controls-next", **{"aria-live": "polite"}),
            html.Div(
                className="shortcut-hint",
                children=[
                    html.Span(tr(KEYS_ON), id="controls-keys-text"),
                    " · ",
                    html.Button(tr("Turn keys off"), id="controls-keys", className="link-button",
                                type="button", **{"aria-pressed": "true"}),
                    " · ",
                    html.Button(tr("Push to talk"), id="controls-ptt", className="link-button", type="button",
                                **{"aria-pressed": "false"}),
                ],
            ),
            dcc.Store(id="controls-sink"),
        ],
    )


KEYS_ON = "Keys: S start or stop · X stop the reply · M mute · / type a message · Esc stop"

# Single-key shortcuts can be turned off (they get in the way of speech-input software
# and of some screen readers); the choice is kept in this browser (assets/keyboard.js).
clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onKeys"),
    Output("controls-keys-text", "children"),
    Output("controls-keys", "children"),
    Output("controls-keys", "aria-pressed"),
    Input("controls-keys", "n_clicks"),
)


clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onControl"),
    Output("controls-sink", "data"),
    Input("controls-start", "nClicks"),
    Input("controls-stop", "nClicks"),
    Input("controls-mute", "nClicks"),
    Input("controls-interrupt", "nClicks"),
    prevent_initial_call=True,
)

# Push to talk (assets/push_to_talk.js): the microphone heard only while Talk is held.
clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onPushToTalk"),
    Output("controls-ptt", "children"),
    Output("controls-ptt", "aria-pressed"),
    Output("controls-talk", "style"),
    Input("controls-ptt", "n_clicks"),
)
