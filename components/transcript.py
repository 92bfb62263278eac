"""The conversation as it happens: who said what, when, and how fast (ids: ``transcript-*``).

The list is filled by ``assets/state.js``: the person's words as soon as they are
recognized, the reply sentence by sentence as it is spoken, a cut reply marked, and
each reply's latency in its header. New starts afresh, Copy and Download give the
conversation as text, Audio both sides of it as a stereo WAV (the latest five minutes,
``assets/conversation_audio.js``), Delete (behind a confirmation) forgets the
conversation on the server and deletes its stored turns; the note under the list says
what the server keeps.
"""

from __future__ import annotations

import feffery_antd_components as fac
from dash import ClientsideFunction, Input, Output, dcc, html

from components.callbacks import clientside_callback
from components.i18n import tr

EMPTY_TEXT = "Press Start and ask a question, or type one below."  # (English; tr when drawn)


def privacy_note(stored: bool, retention_days: float) -> str:
    """What the person is told about what the server keeps of the conversation."""
    if not stored:
        return tr("This server does not store conversations.")
    if not retention_days:
        return tr("This server stores what is said here until deleted, under a random conversation id; "
                  "Delete removes it from this page and from the server.")
    if retention_days == 1:
        return tr("This server stores what is said here for 1 day, under a random conversation id; "
                  "Delete removes it from this page and from the server.")
    return tr("This server stores what is said here for {days} days, under a random conversation id; "
              "Delete removes it from this page and from the server.", days=f"{retention_days:g}")


def render(note: str = "") -> fac.AntdCard:
    return fac.AntdCard(
        title=tr("Conversation"),
        className="transcript-panel",
        extra=html.Div(className="transcript-actions", children=[
            fac.AntdButton(tr("New"), id="transcript-new", size="small", icon=fac.AntdIcon(icon="antd-plus"),
                           title=tr("Start a new conversation"),
                           **{"aria-label": tr("Start a new conversation")}),
            fac.AntdButton(tr("Copy"), id="transcript-copy", size="small",
                           icon=fac.AntdIcon(icon="antd-copy"),
                           title=tr("Copy the conversation"), **{"aria-label": tr("Copy the conversation")}),
            fac.AntdButton(tr("Download"), id="transcript-download", size="small",
                           icon=fac.AntdIcon(icon="antd-download"),
                           title=tr("Download the conversation as text"),
                           **{"aria-label": tr("Download the conversation as text")}),
            fac.AntdButton(tr("Audio"), id="transcript-audio", size="small",
                           icon=fac.AntdIcon(icon="antd-sound"),
                           title=tr("Download both sides of the conversation as audio (WAV)"),
                           **{"aria-label": tr("Download both sides of the conversation as audio (WAV)")}),
            fac.AntdPopconfirm(
                fac.AntdButton(tr("Delete"), id="transcript-delete", size="small", danger=True,
                               icon=fac.AntdIcon(icon="antd-delete"), title=tr("Delete this conversation"),
                               **{"aria-label": tr("Delete this conversation")}),
                id="transcript-delete-confirm",
                title=tr("Delete this conversation?"),
                description=tr("It is removed from this page and from the server's store."),
                okText=tr("Delete"), cancelText=tr("Keep"), okButtonProps={"danger": True},
            ),
        ]),
        children=[
            html.Div(tr(EMPTY_TEXT), id="transcript-empty", className="transcript-empty"),
            html.Div(
                id="transcript-list",
                className="transcript-list",
                role="log",
                **{"aria-live": "polite", "aria-label": tr("Conversation history")},
            ),
            html.Div(note, id="transcript-privacy", className="privacy-note") if note else None,
            dcc.Store(id="transcript-sink"),
        ],
    )


clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onConversation"),
    Output("transcript-sink", "data", allow_duplicate=True),
    Input("transcript-new", "nClicks"),
    Input("transcript-copy", "nClicks"),
    Input("transcript-download", "nClicks"),
    Input("transcript-audio", "nClicks"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="voice", function_name="onDelete"),
    Output("transcript-sink", "data"),
    Input("transcript-delete-confirm", "confirmCounts"),
    prevent_initial_call=True,
)
