"""The page: header, controls, transcript."""

from __future__ import annotations

import feffery_antd_components as fac
from dash import html

from components import controls, transcript


def render() -> html.Div:
    return html.Div(
        className="page",
        children=[
            html.Header(
                className="page-header",
                children=[
                    fac.AntdTitle("Voice chat", level=3, className="page-title"),
                    fac.AntdText("Talk to the assistant. It runs on this machine.", type="secondary"),
                ],
            ),
            html.Main(className="page-main", children=[controls.render(), transcript.render()]),
        ],
    )
