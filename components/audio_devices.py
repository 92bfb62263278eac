"""The settings drawer's sound section (ids: ``settings-audio-*``): which microphone, which
speaker, how loud. Page-only choices, kept in this browser (``assets/audio_devices.js``);
the server never sees them."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, dcc, html

from components.callbacks import clientside_callback

VOLUMES = (0, 25, 50, 75, 100)  # % (a segmented choice: Ant Design's slider handle has no name)


def _field(label: str, help_text: str, control: object) -> html.Div:
    return html.Div(className="settings-field", children=[
        html.Div(label, className="settings-label"), control, html.Div(help_text, className="settings-help")])


def fields() -> list[object]:
    default = [{"label": "The browser's default", "value": ""}]
    return [
        fac.AntdDivider("Sound", innerTextOrientation="left"),
        _field("Microphone", "Used from the next Start. The list names devices once the page may use the "
                             "microphone.",
               fac.AntdSelect(id="settings-audio-mic", options=default, value="", allowClear=False,
                              style={"width": "100%"}, **{"aria-label": "Microphone"})),
        _field("Speaker", "Where the answers play (browsers that allow choosing it).",
               fac.AntdSelect(id="settings-audio-speaker", options=default, value="", allowClear=False,
                              style={"width": "100%"}, **{"aria-label": "Speaker"})),
        _field("Answer volume", "How loud the answers play here.",
               fac.AntdSegmented(id="settings-audio-volume", value="100", block=True,
                                 options=[{"label": f"{level} %" if level else "Off", "value": str(level)}
                                          for level in VOLUMES],
                                 **{"aria-label": "Answer volume"})),
        dcc.Store(id="settings-audio-sink"),
    ]


# The devices are listed when the drawer opens; a choice is kept and applied at once.
clientside_callback(
    ClientsideFunction(namespace="voice", function_name="listAudioDevices"),
    Output("settings-audio-sink", "data"),
    Input("settings-drawer", "visible"),
)

clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onAudioChoice"),
    Output("settings-audio-sink", "data", allow_duplicate=True),
    Input("settings-audio-mic", "value"),
    Input("settings-audio-speaker", "value"),
    Input("settings-audio-volume", "value"),
    prevent_initial_call=True,
)
