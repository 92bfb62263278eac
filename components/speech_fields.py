"""The settings drawer's speech-to-speech group (ids ``settings-speech-*``): answers from
the OpenAI Realtime API or the Gemini Live API instead of the providers above, which
still take the turns and answer while the API is unreachable. Applied with its button,
like the OpenAI-compatible server's fields; the key is kept for the tab only."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, html

from components.callbacks import clientside_callback
from components.i18n import tr
from components.settings_fields import field, select
from core.providers.speech.choice import SERVER_URL
from core.session.session_settings import SessionSettings

SPEECH_OPTIONS = [
    {"label": "Off: the providers above answer", "value": "off"},
    {"label": "OpenAI Realtime API", "value": "openai-realtime"},
    {"label": "Gemini Live API", "value": "gemini-live"},
]
FIELDS = [
    ("settings-speech", "speech_provider", "str"),
    ("settings-speech-url", "speech_base_url", "str"),
    ("settings-speech-key", "speech_api_key", "str"),
    ("settings-speech-model", "speech_model", "str"),
    ("settings-speech-voice", "speech_voice", "str"),
]


def url_label(url: str) -> str:
    named = {"": tr("The API's own address"), SERVER_URL: tr("This app's own address")}
    return named.get(url, url)


def render(defaults: SessionSettings, urls: tuple[str, ...]) -> html.Div:
    choice = defaults.speech
    options = [{"label": url_label(url), "value": url} for url in (urls or ("",))]
    return html.Div(className="settings-group", children=[
        html.Div(tr("Speech-to-speech"), className="settings-label"),
        field(tr("Answers"),
              tr("One model hears you and answers aloud. The providers above still take your "
                 "turns, and answer while it is unreachable."),
              select("settings-speech", [{**o, "label": tr(o["label"])} for o in SPEECH_OPTIONS],
                     tr("Speech-to-speech API"), value=choice.kind)),
        html.Div(id="settings-speech-details", children=[
            field(tr("Address"), tr("Only the addresses this app's admin allows."),
                  select("settings-speech-url", options, tr("Speech-to-speech address"),
                         value=choice.base_url)),
            field(tr("API key"), tr("Kept for this tab only. Empty: the server's own key, if it has one."),
                  fac.AntdInput(id="settings-speech-key", mode="password", value="",
                                **{"aria-label": tr("Speech-to-speech API key")})),
            field(tr("Model and voice"), tr("Empty: the API's default."),
                  html.Div(className="settings-stack", children=[
                      fac.AntdInput(id="settings-speech-model", value=choice.model, addonBefore=tr("Model"),
                                    **{"aria-label": tr("Speech-to-speech model")}),
                      fac.AntdInput(id="settings-speech-voice", value=choice.voice, addonBefore=tr("Voice"),
                                    **{"aria-label": tr("Speech-to-speech voice")}),
                  ])),
        ]),
        fac.AntdButton(tr("Use this API"), id="settings-speech-apply", type="primary",
                       **{"aria-label": tr("Use this speech-to-speech API")}),
    ])


# The address, key, model and voice show only when an API is chosen.
clientside_callback(
    ClientsideFunction(namespace="voice", function_name="speechFields"),
    Output("settings-speech-details", "style"),
    Input("settings-speech", "value"),
)
