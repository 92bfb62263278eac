"""The page: header, then the controls beside the conversation (stacked on a phone)."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import html

from components import access_gate, composer, controls, settings_panel, status, transcript, visualizer
from core.session.session_settings import SessionSettings


def render(defaults: SessionSettings | None = None, base_urls: tuple[str, ...] = (),
           privacy: str = "", access: str | None = None) -> html.Div:
    """``base_urls``: the OpenAI-compatible servers a person may choose in the settings;
    ``privacy``: what the server keeps (``transcript.privacy_note``); ``access``: how a
    session ticket is had, when one is needed (``access_gate.render``)."""
    return html.Div(
        className="page",
        children=[
            html.Header(
                className="page-header",
                children=[
                    html.Div(children=[
                        fac.AntdTitle("Voice chat", level=1, className="page-title"),
                        fac.AntdText("Press Start and talk, or type a message.", type="secondary"),
                    ]),
                    settings_panel.open_button(),
                ],
            ),
            settings_panel.render(defaults, base_urls),
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
