"""A stored conversation for admins: its turns (the admin page's viewer, ``GET
/api/conversations/<id>``), filtered by words, and as plain text for an export."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from core.runtime import VoiceRuntime

MAX_TURNS = 2000  # the most of one conversation shown or exported


class NoStore(LookupError):
    """The server stores no conversations."""


def turns(runtime: VoiceRuntime, session_id: str, words: str = "") -> list[dict[str, Any]]:
    """The conversation's turns in order (raises ``NoStore``, ``StoreError``); with
    ``words``, only the turns that hold them all (any case)."""
    store = runtime.store
    if store is None:
        raise NoStore("this server does not store conversations")
    found = [dataclasses.asdict(t) for t in store.turns(session_id, MAX_TURNS)]
    wanted = words.lower().split()
    return [t for t in found if all(w in t["text"].lower() for w in wanted)]


def as_text(session_id: str, rows: list[dict[str, Any]]) -> str:
    """One line a turn: "[2026-12-07 12:43:03] You: ..." (a cut reply marked)."""
    lines = [f"Conversation {session_id}"]
    for t in rows:
        who = "You" if t["role"] == "user" else "Assistant"
        when = datetime.fromtimestamp(t["at"]).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"[{when}] {who}: {t['text']}" + (" [cut off]" if t["cut"] else ""))
    return "\n".join(lines) + "\n"
