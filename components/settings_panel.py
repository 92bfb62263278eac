"""The settings drawer: how the assistant listens and answers (ids: ``settings-*``).

Choices apply to the running session at once (a ``settings`` message) and are kept in
the browser (localStorage; an API key only for the tab's life, in sessionStorage), so
they survive a reload; "Reset" returns to the server's defaults. ``assets/settings.js``
keeps the stored copy. Selections apply when changed; the OpenAI-compatible server's
text fields apply with their "Use this server" button, not at every keystroke.
"""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, State, dcc, html

from components import audio_devices, speech_fields
from components.callbacks import clientside_callback
from components.i18n import tr
from components.settings_fields import field, select
from core.providers.choice import EDGE_VOICES, LANGUAGES, LOCAL_VOICES, SERVER_URL
from core.session.session_settings import SessionSettings

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


STT_OPTIONS = [
    {"label": "Embedded Whisper (offline)", "value": "local"},
    {"label": "OpenAI-compatible server", "value": "openai"},
]
LLM_OPTIONS = [
    {"label": "Embedded Gemma (offline)", "value": "local"},
    {"label": "OpenAI-compatible server", "value": "openai"},
]
TTS_OPTIONS = [
    {"label": "Embedded Piper (offline)", "value": "local"},
    {"label": "OpenAI-compatible server", "value": "openai"},
    {"label": "Microsoft Edge voices (online)", "value": "edge"},
]
LANGUAGE_OPTIONS = [{"label": name, "value": code} for code, name in LANGUAGES.items()]

# (component id, setting key, value kind): the order of the clientside callbacks' values.
APPLIED_ON_CHANGE = [
    ("settings-vad", "vad_aggressiveness", "int"),
    ("settings-patience", "patience", "str"),
    ("settings-length", "max_sentences", "int"),
    ("settings-stt", "stt_provider", "str"),
    ("settings-llm", "llm_provider", "str"),
    ("settings-tts", "tts_provider", "str"),
    ("settings-voice", "voice", "str"),
    ("settings-language", "language", "str"),
]
APPLIED_WITH_BUTTON = [
    ("settings-openai-url", "openai_base_url", "str"),
    ("settings-openai-key", "openai_api_key", "str"),
    ("settings-openai-stt-model", "openai_stt_model", "str"),
    ("settings-openai-llm-model", "openai_llm_model", "str"),
    ("settings-openai-tts-model", "openai_tts_model", "str"),
    ("settings-openai-voice", "openai_tts_voice", "str"),
]
APPLIED_WITH_BUTTON += speech_fields.FIELDS
BUTTONS = ("settings-openai-apply", "settings-speech-apply")
FIELDS = APPLIED_ON_CHANGE + APPLIED_WITH_BUTTON


def text_input(component_id: str, label: str, **extra: object) -> fac.AntdInput:
    return fac.AntdInput(id=component_id, **{"aria-label": label}, **extra)


def translated(options: list[dict[str, str]]) -> list[dict[str, str]]:
    """A list of choices with its labels in the page's language."""
    return [{**option, "label": tr(option["label"])} for option in options]


def open_button() -> fac.AntdButton:
    return fac.AntdButton(tr("Settings"), id="settings-open", icon=fac.AntdIcon(icon="antd-setting"),
                          **{"aria-label": tr("Open the settings")})


def listening_fields(defaults: SessionSettings) -> list[html.Div]:
    return [
        field(tr("Hearing speech"), tr("How readily a sound counts as speech. Strict suits a noisy room."),
              fac.AntdSegmented(id="settings-vad", options=translated(VAD_OPTIONS), block=True,
                                value=str(defaults.vad_aggressiveness),
                                **{"aria-label": tr("Speech detection sensitivity")})),
        field(tr("End-of-turn patience"),
              tr("How long a pause must be before the assistant answers. Patient lets you "
                 "think mid-sentence; quick answers sooner."),
              fac.AntdSegmented(id="settings-patience", options=translated(PATIENCE_OPTIONS), block=True,
                                value=defaults.patience, **{"aria-label": tr("End-of-turn patience")})),
        field(tr("Reply length"), tr("The most sentences in one spoken reply."),
              fac.AntdSegmented(id="settings-length", options=translated(LENGTH_OPTIONS), block=True,
                                value=str(defaults.max_sentences), **{"aria-label": tr("Reply length")})),
    ]


def provider_fields(defaults: SessionSettings) -> list[html.Div]:
    choice = defaults.providers
    return [
        field(tr("Voice"), tr("Who speaks the replies. The embedded voice works offline."),
              select("settings-tts", translated(TTS_OPTIONS), tr("Speech provider"),
                     value=choice.tts_provider)),
        field(tr("Voice name"), tr("Empty: the provider's default voice."),
              select("settings-voice", [], tr("Voice name"), value=choice.voice, placeholder=tr("Default")),
              field_id="settings-voice-field"),
        field(tr("Language"),
              tr("The embedded models speak English. Other languages need an OpenAI-compatible "
                 "server for recognition and replies, and an online or server voice."),
              select("settings-language", translated(LANGUAGE_OPTIONS), tr("Language"),
                     value=choice.language)),
        field(tr("Speech recognition"), tr("Who turns your speech into words."),
              select("settings-stt", translated(STT_OPTIONS), tr("Speech recognition provider"),
                     value=choice.stt_provider)),
        field(tr("Replies"), tr("Who writes the answers."),
              select("settings-llm", translated(LLM_OPTIONS), tr("Reply provider"),
                     value=choice.llm_provider)),
    ]


def openai_fields(defaults: SessionSettings, base_urls: tuple[str, ...]) -> html.Div:
    choice = defaults.providers
    url_options = [{"label": tr("This app's own server") if url == SERVER_URL else url, "value": url}
                   for url in base_urls]
    return html.Div(id="settings-openai", className="settings-group", children=[
        html.Div(tr("OpenAI-compatible server"), className="settings-label"),
        field(tr("Address"), tr("Only the servers this app's admin allows."),
              select("settings-openai-url", url_options, tr("Server address"), value=choice.openai_base_url)),
        field(tr("API key"), tr("Kept for this tab only. Empty: the server's own key, if it has one."),
              fac.AntdInput(id="settings-openai-key", mode="password", value="",
                            placeholder="sk-...", **{"aria-label": tr("API key")})),
        field(tr("Models"), tr("Speech recognition, replies and voice, as the server names them."),
              html.Div(className="settings-stack", children=[
                  text_input("settings-openai-stt-model", tr("Speech recognition model"),
                             value=choice.openai_stt_model, addonBefore="STT"),
                  text_input("settings-openai-llm-model", tr("Reply model"),
                             value=choice.openai_llm_model, addonBefore="LLM"),
                  text_input("settings-openai-tts-model", tr("Voice model"),
                             value=choice.openai_tts_model, addonBefore="TTS"),
                  text_input("settings-openai-voice", tr("Server voice name"),
                             value=choice.openai_tts_voice, addonBefore=tr("Voice")),
              ])),
        fac.AntdButton(tr("Use this server"), id="settings-openai-apply", type="primary",
                       **{"aria-label": tr("Use this OpenAI-compatible server")}),
    ])


def render(defaults: SessionSettings | None = None, base_urls: tuple[str, ...] = (),
           speech_urls: tuple[str, ...] = ()) -> html.Div:
    defaults = defaults or SessionSettings(vad_aggressiveness=2)
    catalog = {"edge": EDGE_VOICES, "local": {"en": LOCAL_VOICES}}
    return html.Div(children=[
        fac.AntdDrawer(
            id="settings-drawer", title=tr("Settings"), placement="right", width="min(400px, 100vw)",
            visible=False,
            children=[
                *audio_devices.fields(),
                fac.AntdDivider(tr("Listening"), innerTextOrientation="left"),
                *listening_fields(defaults),
                fac.AntdDivider(tr("Providers"), innerTextOrientation="left"),
                *provider_fields(defaults),
                openai_fields(defaults, base_urls or (defaults.providers.openai_base_url,)),
                speech_fields.render(defaults, speech_urls),
                html.Div(id="settings-providers", className="settings-help settings-providers"),
                fac.AntdButton(tr("Reset to defaults"), id="settings-reset",
                               **{"aria-label": tr("Reset the settings to the defaults")}),
                html.Div(id="settings-saved", className="settings-help", role="status",
                         **{"aria-live": "polite"}),
            ],
        ),
        dcc.Store(id="settings-defaults", data=defaults.as_event()),
        dcc.Store(id="settings-fields", data={"fields": [[key, kind] for _, key, kind in FIELDS],
                                              "onChange": len(APPLIED_ON_CHANGE), "buttons": len(BUTTONS)}),
        dcc.Store(id="settings-voices", data=catalog),
        dcc.Store(id="settings-sink"),
    ])


def outputs(prop: str = "value", duplicate: bool = False) -> list[Output]:
    return [Output(component_id, prop, allow_duplicate=duplicate) for component_id, _, _ in FIELDS]


clientside_callback(
    ClientsideFunction(namespace="voice", function_name="openSettings"),
    Output("settings-drawer", "visible"),
    Input("settings-open", "nClicks"),
    prevent_initial_call=True,
)

# At load: show what this browser chose before (or leave the server's defaults).
clientside_callback(
    ClientsideFunction(namespace="voice", function_name="loadSettings"),
    *outputs(),
    Input("settings-defaults", "data"),
    State("settings-fields", "data"),
)

clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onSettings"),
    Output("settings-sink", "data"),
    *[Input(component_id, "value") for component_id, _, _ in APPLIED_ON_CHANGE],
    *[Input(button, "nClicks") for button in BUTTONS],
    *[State(component_id, "value") for component_id, _, _ in APPLIED_WITH_BUTTON],
    State("settings-fields", "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="voice", function_name="resetSettings"),
    *outputs(duplicate=True),
    Input("settings-reset", "nClicks"),
    State("settings-defaults", "data"),
    State("settings-fields", "data"),
    prevent_initial_call=True,
)

# The voice list follows the provider and language; the server's own fields show only
# when a role uses an OpenAI-compatible server.
clientside_callback(
    ClientsideFunction(namespace="voice", function_name="voiceOptions"),
    Output("settings-voice", "options"),
    Output("settings-voice-field", "style"),
    Output("settings-openai", "style"),
    Input("settings-tts", "value"),
    Input("settings-language", "value"),
    Input("settings-stt", "value"),
    Input("settings-llm", "value"),
    State("settings-voices", "data"),
)
