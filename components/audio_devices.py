"""The settings drawer's sound section (ids: ``settings-audio-*``): which microphone, which
speaker, how loud. Page-only choices, kept in this browser (``assets/audio_devices.js``);
the server never sees them."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, dcc

from components.callbacks import clientside_callback
from components.i18n import tr
from components.settings_fields import field, select

VOLUMES = (0, 25, 50, 75, 100)  # % (a segmented choice: Ant Design's slider handle has no name)


def fields() -> list[object]:
    default = [{"label": tr("The browser's default"), "value": ""}]
    return [
        fac.AntdDivider(tr("Sound"), innerTextOrientation="left"),
        field(tr("Microphone"),
              tr("Used from the next Start. The list names devices once the page may use the microphone."),
              select("settings-audio-mic", default, tr("Microphone"), value="")),
        field(tr("Speaker"), tr("Where the answers play (browsers that allow choosing it)."),
              select("settings-audio-speaker", default, tr("Speaker"), value="")),
        field(tr("Answer volume"), tr("How loud the answers play here."),
              fac.AntdSegmented(id="settings-audio-volume", value="100", block=True,
                                options=[{"label": f"{level} %" if level else tr("Off"), "value": str(level)}
                                         for level in VOLUMES],
                                **{"aria-label": tr("Answer volume")})),
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
