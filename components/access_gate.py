"""What the voice page shows before a session where the server asks for a ticket:
a passcode form (``VOICECHAT_ACCESS_PASSCODE``), or, where tickets come only from the
operator's backend, a note that an invitation link is needed. Hidden until the page
needs a ticket (assets/access.js); absent where the server asks for none."""

from __future__ import annotations

from dash import dcc, html

from components.i18n import tr


def render(mode: str | None) -> html.Div | None:
    """``mode``: "passcode", "link" or None (no ticket asked for)."""
    if mode is None:
        return None
    if mode == "passcode":
        body = html.Form(id="access-form", className="access-form", children=[
            html.Label(tr("This assistant is private. Enter its passcode to talk."),
                       htmlFor="access-passcode"),
            html.Div(className="access-row", children=[
                dcc.Input(id="access-passcode", type="password", autoComplete="current-password",
                          maxLength=200, required=True, debounce=True),
                html.Button(tr("Continue"), id="access-submit", type="submit", className="access-submit"),
            ]),
        ])
    else:
        body = html.P(tr("This assistant is private: open it with the invitation link you were given."))
    return html.Div(id="access-gate", className="access-gate", hidden=True, **{"data-mode": mode},
                    children=[body, html.Div(id="access-message", className="access-message", role="alert")])
