"""The settings drawer: how the assistant listens and answers (ids: ``settings-*``).

Choices apply to the running session at once (a ``settings`` message) and are kept in
the browser (localStorage), so they survive a reload; "Reset" returns to the server's
defaults. ``assets/settings.js`` keeps the stored copy.
"""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from core.session_settings import SessionSettings

VAD_OPTIONS = [
    {"label": "Strict", "value": "3"},
    {"label": "Normal", "value": "2"},
    {"label": "Sensitive", "value": "1"},
    {"label": "Most", "value": "0"},
]
PATIENCE_OPTIONS = [
    {"label": "Quick", "value": "quick"},
    {"label": "Normal", "value": "normal"},
    {"label": "Patient", "value": "patient"},
]
LENGTH_OPTIONS = [
    {"label": "One sentence", "value": "1"},
    {"label": "Up to 3", "value": "3"},
    {"label": "Up to 5", "value": "5"},
]


def field(label: str, help_text: str, control: object) -> html.Div:
    return html.Div(className="settings-field", children=[
        html.Div(label, className="settings-label"),
        control,
        html.Div(help_text, className="settings-help"),
    ])


def open_button() -> fac.AntdButton:
    return fac.AntdButton("Settings", id="settings-open", icon=fac.AntdIcon(icon="antd-setting"),
                          **{"aria-label": "Open the settings"})


def render(defaults: SessionSettings | None = None) -> html.Div:
    defaults = defaults or SessionSettings(vad_aggressiveness=2)
    return html.Div(children=[
        fac.AntdDrawer(
            id="settings-drawer", title="Settings", placement="right", width="min(380px, 100vw)",
            visible=False,
            children=[
                field("Hearing speech",
                      "How readily a sound counts as speech. Strict suits a noisy room.",
                      fac.AntdSegmented(id="settings-vad", options=VAD_OPTIONS, block=True,
                                        value=str(defaults.vad_aggressiveness),
                                        **{"aria-label": "Speech detection sensitivity"})),
                field("End-of-turn patience",
                      "How long a pause must be before the assistant answers. Patient lets you "
                      "think mid-sentence; quick answers sooner.",
                      fac.AntdSegmented(id="settings-patience", options=PATIENCE_OPTIONS, block=True,
                                        value=defaults.patience,
                                        **{"aria-label": "End-of-turn patience"})),
                field("Reply length", "The most sentences in one spoken reply.",
                      fac.AntdSegmented(id="settings-length", options=LENGTH_OPTIONS, block=True,
                                        value=str(defaults.max_sentences),
                                        **{"aria-label": "Reply length"})),
                html.Div(id="settings-providers", className="settings-help settings-providers"),
                fac.AntdButton("Reset to defaults", id="settings-reset",
                               **{"aria-label": "Reset the settings to the defaults"}),
                html.Div(id="settings-saved", className="settings-help", role="status",
                         **{"aria-live": "polite"}),
            ],
        ),
        dcc.Store(id="settings-defaults", data=defaults.as_event()),
        dcc.Store(id="settings-sink"),
    ])


clientside_callback(
    ClientsideFunction(namespace="voice", function_name="openSettings"),
    Output("settings-drawer", "visible"),
    Input("settings-open", "nClicks"),
    prevent_initial_call=True,
)

# At load: show what this browser chose before (or leave the server's defaults).
clientside_callback(
    ClientsideFunction(namespace="voice", function_name="loadSettings"),
    Output("settings-vad", "value"),
    Output("settings-patience", "value"),
    Output("settings-length", "value"),
    Input("settings-defaults", "data"),
)

clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onSettings"),
    Output("settings-sink", "data"),
    Input("settings-vad", "value"),
    Input("settings-patience", "value"),
    Input("settings-length", "value"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="voice", function_name="resetSettings"),
    Output("settings-vad", "value", allow_duplicate=True),
    Output("settings-patience", "value", allow_duplicate=True),
    Output("settings-length", "value", allow_duplicate=True),
    Input("settings-reset", "nClicks"),
    State("settings-defaults", "data"),
    prevent_initial_call=True,
)
