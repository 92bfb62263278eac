"""The admin token prompt (ids: ``admin-token*``, ``admin-login``).

The token is kept in the tab's sessionStorage (a ``dcc.Store``) and sent with every
refresh as a callback State, where the server checks it; it never goes into a URL and
the page shows nothing until the server has accepted it.
"""

from __future__ import annotations

import feffery_antd_components as fac
from dash import Input, Output, State, dcc, html

from components.callbacks import clientside_callback


def render() -> html.Div:
    return html.Div(children=[
        # (not a <form>: Enter would reload the page)
        html.Div(id="admin-login", className="admin-login", role="form", children=[
            html.Div("Admin token", className="admin-login-label"),
            html.Div(className="admin-login-row", children=[
                fac.AntdInput(id="admin-token-input", mode="password", autoComplete="off",
                              placeholder="The server's VOICECHAT_ADMIN_TOKEN",
                              **{"aria-label": "Admin token"}),
                fac.AntdButton("Open", id="admin-token-submit", type="primary",
                               **{"aria-label": "Open the metrics"}),
            ]),
            html.Div("Kept in this tab until it closes; never put in the address.",
                     className="admin-muted"),
        ]),
        dcc.Store(id="admin-token", storage_type="session"),
    ])


def forget_button() -> fac.AntdButton:
    return fac.AntdButton("Forget the token", id="admin-token-forget", style={"display": "none"},
                          icon=fac.AntdIcon(icon="antd-logout"), **{"aria-label": "Forget the admin token"})


# Enter in the field or the button: keep the token for this tab and empty the field.
clientside_callback(
    """function (_clicks, _submits, value) {
        const token = (value || "").trim();
        if (!token) return [window.dash_clientside.no_update, window.dash_clientside.no_update];
        return [token, ""];
    }""",
    Output("admin-token", "data"),
    Output("admin-token-input", "value"),
    Input("admin-token-submit", "nClicks"),
    Input("admin-token-input", "nSubmit"),
    State("admin-token-input", "value"),
    prevent_initial_call=True,
)

clientside_callback(
    "function (_clicks) { return null; }",
    Output("admin-token", "data", allow_duplicate=True),
    Input("admin-token-forget", "nClicks"),
    prevent_initial_call=True,
)
