"""The page: header, then the controls beside the conversation (stacked on a phone)."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, html

from components import access_gate, composer, controls, i18n, settings_panel, status, transcript, visualizer
from components.callbacks import clientside_callback
from components.i18n import tr
from core.session.session_settings import SessionSettings


def render(defaults: SessionSettings | None = None, base_urls: tuple[str, ...] = (),
           privacy: str = "", access: str | None = None,
           script_words: frozenset[str] = frozenset(), speech_urls: tuple[str, ...] = ()) -> html.Div:
    """In the current language (``i18n.using``). ``base_urls``: the OpenAI-compatible
    servers a person may choose in the settings; ``privacy``: what the server keeps
    (``transcript.privacy_note``); ``access``: how a session ticket is had, when one is
    needed (``access_gate.render``); ``script_words``: the English the page scripts
    translate (``i18n_scripts.script_words``), whose translations the page carries;
    ``speech_urls``: the speech-to-speech addresses a person may choose."""
    language = i18n.current()
    return html.Div(
        className="page",
        children=[
            html.Header(
                className="page-header",
                children=[
                    html.Div(children=[
                        fac.AntdTitle(tr("Voice chat"), level=1, className="page-title"),
                        fac.AntdText(tr("Press Start and talk, or type a message."), type="secondary"),
                    ]),
                    html.Div(className="page-header-actions", children=[
                        language_picker(language),
                        settings_panel.open_button(),
                    ]),
                ],
            ),
            html.Div(id="page-i18n", hidden=True,
                     **{"data-lang": language, "data-words": i18n.page_catalogue(language, script_words)}),
            settings_panel.render(defaults, base_urls, speech_urls),
            access_gate.render(access),
            html.Main(
                className="page-main",
                children=[
                    html.Div(className="side-column",
                             children=[controls.render(), status.render(), visualizer.render()]),
                    html.Div(className="chat-column",
                             children=[transcript.render(privacy), composer.render()]),
                ],
            ),
        ],
    )


def language_picker(language: str) -> html.Select:
    """A native select: right on phones, and the page's load needs no more of Ant Design."""
    return html.Select(
        id="page-language", className="language-picker", **{"aria-label": tr("Language of this page")},
        children=[html.Option(name, value=code, lang=code, selected=code == language)
                  for code, name in i18n.LANGUAGES.items()],
    )


# Once drawn, the page says its language (<html lang>); a language picked is kept (a
# cookie the server reads) and the page drawn again in it (assets/i18n.js).
clientside_callback(
    ClientsideFunction(namespace="page", function_name="drawnIn"),
    Output("page-language", "className"),
    Input("page-language", "n_clicks"),
)
