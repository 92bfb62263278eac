"""The admin page's conversation viewer (ids: ``admin-transcript-*``): pick a stored
conversation in the table above it, read its turns, find words in it, export it as text,
delete it. Every callback checks the admin token first, as the page's refresh does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import feffery_antd_components as fac
from dash import Input, Output, State, dcc, html, no_update
from flask import current_app

from components.admin_tables import scrolling
from components.callbacks import callback
from core.store.conversations import StoreError
from monitoring.metrics.admin_api import Admission, admin_gate, forget_conversation, request_address
from monitoring.metrics.transcripts import NoStore, as_text, turns

HIDDEN = {"display": "none"}
COLUMNS = [("turn", "Turn"), ("when", "Time"), ("who", "Who"), ("text", "Said")]


def render() -> fac.AntdCard:
    return fac.AntdCard(
        id="admin-transcript", title="Conversation", size="small", className="admin-transcript-card",
        style=HIDDEN,
        extra=html.Div(className="admin-transcript-actions", children=[
            fac.AntdInput(id="admin-transcript-search", placeholder="Find words", allowClear=True,
                          size="small", debounceWait=250, **{"aria-label": "Find words in the conversation"}),
            fac.AntdButton("Export", id="admin-transcript-export", size="small",
                           icon=fac.AntdIcon(icon="antd-download")),
            fac.AntdPopconfirm(
                fac.AntdButton("Delete", id="admin-transcript-delete", size="small", danger=True,
                               icon=fac.AntdIcon(icon="antd-delete")),
                id="admin-transcript-delete-confirm", title="Delete this conversation?",
                description="From the store, and from the server's memory if it is still going on.",
                okText="Delete", cancelText="Keep", okButtonProps={"danger": True}),
        ]),
        children=[
            html.Div(id="admin-transcript-note", className="admin-muted admin-transcript-note"),
            scrolling("Conversation turns", fac.AntdTable(
                id="admin-transcript-turns", data=[], size="small", bordered=False, locale="en-us",
                columns=[{"dataIndex": key, "title": title, "align": "left"} for key, title in COLUMNS],
                pagination={"pageSize": 20, "hideOnSinglePage": True, "showSizeChanger": False})),
            dcc.Download(id="admin-transcript-download"),
        ])


def _allowed(token: str | None) -> bool:
    admission, _ = admin_gate(current_app).admit(token, request_address())
    return admission is Admission.OPEN


def _runtime() -> Any:
    return current_app.config["VOICE_RUNTIME"]


def rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": f"{t['turn']}-{t['role']}", "turn": t["turn"],
             "when": datetime.fromtimestamp(t["at"]).strftime("%H:%M:%S"),
             "who": "You" if t["role"] == "user" else "Assistant",
             "text": t["text"] + (" [cut off]" if t["cut"] else "")} for t in found]


@callback(
    Output("admin-transcript", "style"),
    Output("admin-transcript", "title"),
    Output("admin-transcript-turns", "data"),
    Output("admin-transcript-note", "children"),
    Input("admin-conversations", "selectedRowKeys"),
    Input("admin-transcript-search", "value"),
    State("admin-token", "data"),
    prevent_initial_call=True,
)
def show(selected: list[str] | None, words: str | None, token: str | None) -> list[Any]:
    if not selected or not _allowed(token):
        return [HIDDEN, "Conversation", [], ""]
    session_id = str(selected[0])
    try:
        found = turns(_runtime(), session_id, words or "")
    except (NoStore, StoreError) as exc:
        return [{}, f"Conversation {session_id[:8]}", [], f"Not readable: {exc}"]
    note = (f"{len(found)} turn{'s' if len(found) != 1 else ''} with “{words}”" if words
            else f"{len(found)} turns stored")
    return [{}, f"Conversation {session_id[:8]}", rows(found), note]


@callback(
    Output("admin-transcript-download", "data"),
    Input("admin-transcript-export", "nClicks"),
    State("admin-conversations", "selectedRowKeys"),
    State("admin-token", "data"),
    prevent_initial_call=True,
)
def export(_clicks: int | None, selected: list[str] | None, token: str | None) -> Any:
    if not selected or not _allowed(token):
        return no_update
    session_id = str(selected[0])
    try:
        text = as_text(session_id, turns(_runtime(), session_id))
    except (NoStore, StoreError):
        return no_update
    return {"content": text, "filename": f"conversation-{session_id[:8]}.txt", "type": "text/plain"}


@callback(
    Output("admin-conversations", "selectedRowKeys"),
    Output("admin-transcript-note", "children", allow_duplicate=True),
    Input("admin-transcript-delete-confirm", "confirmCounts"),
    State("admin-conversations", "selectedRowKeys"),
    State("admin-token", "data"),
    prevent_initial_call=True,
)
def delete(_confirmed: int | None, selected: list[str] | None, token: str | None) -> list[Any]:
    if not selected or not _allowed(token):
        return [no_update, no_update]
    response, status = forget_conversation(_runtime(), str(selected[0]))
    if status != 200:
        return [no_update, f"Not deleted: {response.get_json()['message']}"]
    return [[], ""]
