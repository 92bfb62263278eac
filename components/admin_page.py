"""The admin metrics page at ``/admin`` (ids: ``admin-*``).

The shell holds no figures. Every refresh (every 2 s, or when the token changes) sends
the token from the tab's sessionStorage as a State; the server checks it in constant
time and only then reads the runtime's metrics (the same ``metrics()`` as
``/metrics.json``) and builds the cards, charts and table from them. A missing or
wrong token gets a message and empty outputs, and the refreshing stops until a token
is entered. With no token configured on the server the page only says how to open it.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

import feffery_antd_components as fac
from dash import Input, Output, State, dcc, html
from flask import current_app

from components import (
    admin_cards,
    admin_charts,
    admin_range,
    admin_tables,
    admin_token,
    admin_transcripts,
    admin_turn_taking,
)
from components.callbacks import callback
from monitoring.metrics.admin_api import AdminGate, Admission, admin_gate, metrics, request_address
from monitoring.metrics.cluster_view import cluster

ADMIN_PATH = "/admin"
REFRESH_MS = 2000
HIDDEN = {"display": "none"}
SHOWN: dict[str, str] = {}
NEED_TOKEN = "A valid admin token is needed"


def header(token_configured: bool) -> html.Header:
    return html.Header(className="admin-header", children=[
        html.Div(children=[
            fac.AntdTitle("Voice chat · Metrics", level=1, className="page-title"),
            fac.AntdText("Live figures of this server, for admins.", type="secondary"),
        ]),
        html.Div(className="admin-header-actions", children=[
            *([admin_token.forget_button()] if token_configured else []),
            html.A("Voice page", href="/", className="admin-link"),
        ]),
    ])


def closed() -> fac.AntdResult:
    return fac.AntdResult(
        id="admin-closed", status="warning", title="The admin page is closed",
        subTitle="No admin token is set on this server. Start it with VOICECHAT_ADMIN_TOKEN set to a "
                 "secret of your choice (for example VOICECHAT_ADMIN_TOKEN=... make run), then open "
                 "this page again and paste that token.")


def render(token_configured: bool, history: bool = False) -> html.Div:
    """``history``: the server keeps a store, where the charts' longer ranges are read."""
    if not token_configured:
        return html.Div(className="admin-page", children=[header(False), html.Main(closed())])
    return html.Div(className="admin-page", children=[
        header(True),
        html.Main(children=[
            admin_token.render(),
            html.Div(id="admin-message", role="alert"),
            html.Div(id="admin-dashboard", style=HIDDEN, children=[
                html.Div(id="admin-updated", className="admin-muted admin-updated"),
                admin_cards.render(),
                admin_range.render(history),
                admin_charts.render(),
                admin_tables.render(),
                admin_transcripts.render(),
                admin_turn_taking.render(),
            ]),
        ]),
        dcc.Interval(id="admin-refresh", interval=REFRESH_MS, disabled=True),
    ])


def _uptime(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def refused_view(token: str | None, wait_s: float = 0.0, dark: bool = False) -> list[Any]:
    if wait_s > 0:
        message = fac.AntdAlert(type="error", showIcon=True, message="Too many wrong tokens.",
                                description=f"Wait {math.ceil(wait_s)} s, then paste the token the "
                                            "server was started with (VOICECHAT_ADMIN_TOKEN).")
    elif token:
        message = fac.AntdAlert(type="error", showIcon=True, message=f"{NEED_TOKEN}.",
                                description="The server did not accept that token. Paste the one the "
                                            "server was started with (VOICECHAT_ADMIN_TOKEN).")
    else:
        message = fac.AntdAlert(type="info", showIcon=True, message=f"{NEED_TOKEN} to see the metrics.",
                                description="Paste the token the server was started with "
                                            "(VOICECHAT_ADMIN_TOKEN).")
    empty = admin_charts.in_scheme(admin_charts.empty_figure(""), dark)
    return [message, HIDDEN, SHOWN, HIDDEN, True, "", [],
            *[empty for _ in admin_charts.CHARTS], [], [], [], [], [], ""]


def data_view(data: dict[str, Any], now: float, processes: dict[str, Any] | None = None,
              dark: bool = False, charts: tuple[list[dict[str, Any]], str] | None = None) -> list[Any]:
    """``charts``: the charts' buckets and what they are (the live hour by default)."""
    series, charts_note = charts or (data["series"], "charts: 10 s steps over the last hour")
    updated = (f"Updated {datetime.fromtimestamp(now):%H:%M:%S} · every {REFRESH_MS // 1000} s · "
               f"server up {_uptime(data['uptime_s'])} · {charts_note}")
    totals = processes["totals"] if processes else None
    return [None, SHOWN, HIDDEN, SHOWN, False, updated, admin_cards.cards(data, now, totals),
            *admin_charts.figures(series, dark), admin_tables.turn_rows(data["recent_turns"]),
            admin_tables.provider_items(data["providers"], data.get("speech")),
            admin_tables.conversation_rows(data.get("conversations", [])),
            admin_tables.process_rows(processes) if processes else [],
            admin_turn_taking.rows(data.get("turn_taking", {})), admin_turn_taking.hold(data["stages"])]


def view(runtime: Any, gate: AdminGate, token: str | None, address: str,
         now: float | None = None, dark: bool = False, range_key: str | None = None) -> list[Any]:
    """The refresh callback's outputs: the data only for an accepted token (``dark``: the
    page is in dark mode; ``range_key``: the charts' time range, ``admin_range.RANGES``)."""
    admission, wait_s = gate.admit(token, address)
    if admission is not Admission.OPEN:
        return refused_view(token, wait_s, dark)
    data = metrics(runtime)
    now = time.time() if now is None else now
    charts = admin_range.chart_series(runtime, range_key, data["series"], now)
    return data_view(data, now, cluster(runtime, data), dark, charts)


@callback(
    Output("admin-message", "children"),
    Output("admin-dashboard", "style"),
    Output("admin-login", "style"),
    Output("admin-token-forget", "style"),
    Output("admin-refresh", "disabled"),
    Output("admin-updated", "children"),
    Output("admin-cards", "children"),
    *[Output(chart_id, "figure") for chart_id, _, _ in admin_charts.CHARTS],
    Output("admin-turns", "data"),
    Output("admin-providers", "children"),
    Output("admin-conversations", "data"),
    Output("admin-processes", "data"),
    Output("admin-turn-taking", "data"),
    Output("admin-hold", "children"),
    Input("admin-refresh", "n_intervals"),
    Input("admin-token", "modified_timestamp"),
    Input("theme", "algorithm"),
    Input("admin-range", "value"),
    State("admin-token", "data"),
)
def refresh(_intervals: int | None, _stored_at: int | None, scheme: str | None, range_key: str | None,
            token: str | None) -> list[Any]:
    return view(current_app.config["VOICE_RUNTIME"], admin_gate(current_app), token,
                request_address(), dark=scheme == "dark", range_key=range_key)
